"""Analysis of trained networks: similarity between solutions."""
