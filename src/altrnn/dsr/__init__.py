"""Dynamical-systems reconstruction: benchmark systems (Lorenz-63, Rössler) simulated here, never downloaded."""
