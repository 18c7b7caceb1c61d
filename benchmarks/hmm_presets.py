"""Generative HMM emulation per preset: CPU seconds of training and the three total-variation distances.

Builds each network as the `hmm` stage does: the config file's section
hmm_emulation (default config/hmm.yaml) is resolved by altrnn.config (per_hmm
merged in), then stages.hmm.hmm_spec and stages.hmm.model_config build the HMM
and the ModelConfig, train.generative.train_generative trains it, and
train.generative.evaluate_generator scores it with the section's eval_trials
(or --eval-trials), eval_steps, eval_seed and max_dwell. Command-line overrides
apply on top of the resolved settings of every preset.

Per preset and seed it prints the CPU seconds of training (process time, one
thread), the occupancy / transition / dwell TVs, those of HMM samples of the
same size (the floor), and whether all three are <= --tolerance.

    python benchmarks/hmm_presets.py --presets linear3 full3 --seeds 0 1
    python benchmarks/hmm_presets.py --presets cyclic4 --iters 1500 --set n_steps=50 epsilon=5 --n-noise 1
    python benchmarks/hmm_presets.py --presets linear4 --eval-every 250   # TVs along training too
    python benchmarks/hmm_presets.py --presets cyclic4 --lags 5 10        # and pairs at lags 5, 10
    python benchmarks/hmm_presets.py --score results/hmm/cyclic4/nets/*/model.npz --lags 5 10  # no training

--lags adds, per lag l, the TV between the network's and the HMM's joint
distribution of the symbol pairs (o_t, o_{t+l}) (tasks.hmm.lagged_pairs), on
the same number of fresh sequences, beside that of as many HMM samples (f_lag,
the floor): per lag, where eval.csv's pairs_tv holds the largest over the
section's eval_lags, to see whether a loss term fitted to the scored
statistics (generative.moment_*) left the rest of the law behind. --score scores networks the `hmm` stage
trained (model.npz) the same way, without training (1000 sequences of 200
symbols unless --eval-trials; the evaluation's draws, eval_seed 0).

Run with one thread (NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1).
"""

import argparse
import ast
import dataclasses
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=os.path.join(ROOT, "config", "hmm.yaml"),
                   help="config file whose section hmm_emulation gives the settings")
    p.add_argument("--presets", nargs="+", default=None, help="HMM names of the section (default: all)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--iters", type=int, default=None, help="generative.max_iters")
    p.add_argument("--n-rec", type=int, default=None, help="network size N")
    p.add_argument("--n-noise", type=int, default=None, help="generative.n_noise")
    p.add_argument("--network", nargs="*", default=[], metavar="KEY=VALUE",
                   help="overrides of the section's network keys (n_rec, activation, g, alpha, sigma_rec, dtype)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="overrides of GenerativeConfig fields, e.g. n_steps=50 epsilon=5 tau_min=0.1")
    p.add_argument("--eval-every", type=int, default=0,
                   help="also score the snapshots every k iterations (k a multiple of log_every; 0: the end only)")
    p.add_argument("--eval-trials", type=int, default=None,
                   help="generated sequences scored (default: the section's eval_trials; more lowers the floor)")
    p.add_argument("--lags", nargs="*", type=int, default=[],
                   help="also print the TV of the symbol pairs at these lags (not scored by the evaluation)")
    p.add_argument("--score", nargs="+", default=None, metavar="MODEL",
                   help="score these model.npz files of the hmm stage instead of training")
    p.add_argument("--tolerance", type=float, default=0.05)
    p.add_argument("--save", default=None, metavar="DIR",
                   help="write each network's snapshots to DIR/{preset}-s{seed}.npz")
    return p.parse_args(argv)


def literal(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def units(args):
    """{name: (hmm dict, network dict, generative dict, settings)} after the overrides."""
    from altrnn import config as altrnn_config

    raw = altrnn_config.read_yaml(args.config)
    section = raw["hmm_emulation"]
    names = args.presets or list(section["hmms"])
    missing = sorted(set(names) - set(section["hmms"]))
    if missing:
        sys.exit(f"{missing}: not HMMs of {args.config} (hmm_emulation.hmms: {sorted(section['hmms'])})")
    cfg = altrnn_config.load({"hmm_emulation": section})
    over = dict(s.split("=", 1) for s in args.set)
    over = {k: literal(v) for k, v in over.items()}
    if args.iters is not None:
        over["max_iters"] = args.iters
    if args.n_noise is not None:
        over["n_noise"] = args.n_noise
    out = {}
    for name in names:
        unit = cfg.hmms[name]
        s = unit.settings
        network = {k: getattr(s, k) for k in ("n_rec", "activation", "g", "alpha", "sigma_rec", "dtype")}
        network.update({k: literal(v) for k, v in (a.split("=", 1) for a in args.network)})
        if args.n_rec is not None:
            network["n_rec"] = args.n_rec
        out[name] = (unit.hmm, network, {**unit.generative, **over}, s)
    return out


def lagged_pair_tvs(params, cfg, gen, spec, lags, n_trials, n_steps, seed):
    """{lagL: TV between the network's pair frequencies (o_t, o_{t+L}) and the HMM's exact ones, f_lagL: the
    same for as many HMM samples (the floor)}."""
    from altrnn.tasks.hmm import emission_statistics, lagged_pairs, total_variation
    from altrnn.train.generative import generate

    rng = np.random.default_rng([seed, 6])
    sources = {"lag": generate(params, cfg, gen, n_trials, rng, n_steps),
               "f_lag": spec.sample(n_steps, n_trials, rng)[1]}
    exact = lagged_pairs(spec.transition, spec.emission, lags).reshape(len(lags), -1)
    out = {}
    for name, symbols in sources.items():
        pairs = emission_statistics(symbols, spec.n_symbols, lags=lags)["pairs"].reshape(len(lags), -1)
        out.update({f"{name}{lag}": tv for lag, tv in zip(lags, total_variation(pairs, exact))})
    return out


def score(args):
    """--score: the three TVs, their floor and the lagged pairs' TVs of trained networks."""
    from altrnn.io import load_model
    from altrnn.stages.hmm import hmm_spec
    from altrnn.train.generative import GenerativeConfig, evaluate_generator

    trials = args.eval_trials or 1000
    print(f"{'model':50s}  {'occ':>6s} {'trans':>6s} {'dwell':>6s}  {'f_occ':>6s} {'f_tr':>6s} {'f_dw':>6s}"
          + "".join(f"  {prefix + str(lag):>6s}" for prefix in ("lag", "f_lag") for lag in args.lags), flush=True)
    for path in args.score:
        saved = load_model(path)
        spec, gen = hmm_spec(saved.metadata["hmm"]), GenerativeConfig.from_dict(saved.metadata["generative"])
        tv = evaluate_generator(saved.params, saved.config, gen, spec, trials, 200, 0)
        lags = lagged_pair_tvs(saved.params, saved.config, gen, spec, args.lags, trials, 200, 0) if args.lags else {}
        values = [tv[k] for k in ("occupancy_tv", "transition_tv", "dwell_tv")]
        floor = [tv[f"floor_{k}"] for k in ("occupancy_tv", "transition_tv", "dwell_tv")]
        print(f"{path[-50:]:50s}  " + " ".join(f"{v:6.3f}" for v in values) + "  "
              + " ".join(f"{v:6.3f}" for v in floor) + "".join(f"  {v:6.3f}" for v in lags.values()), flush=True)


def main(argv=None):
    args = parse_args(argv)
    if args.score:
        return score(args)
    from altrnn.stages.hmm import hmm_spec, model_config
    from altrnn.train.generative import GenerativeConfig, evaluate_generator, train_generative
    from altrnn.model import Params

    print(f"{'preset':8s} {'seed':>4s} {'N':>4s} {'noise':>5s} {'steps':>5s} {'eps':>5s} {'iters':>5s} "
          f"{'cpu_s':>7s}  {'occ':>6s} {'trans':>6s} {'dwell':>6s}  {'f_occ':>6s} {'f_tr':>6s} {'f_dw':>6s}  reached"
          + "".join(f"  {prefix + str(lag):>6s}" for prefix in ("lag", "f_lag") for lag in args.lags), flush=True)
    for name, (hmm, network, generative, s) in units(args).items():
        spec, gen = hmm_spec(hmm), GenerativeConfig.from_dict(generative)
        cfg = model_config(network, gen, spec)
        changed = {k: v for k, v in dataclasses.asdict(gen).items()
                   if v != getattr(GenerativeConfig(), k)}
        print(f"# {name}: {changed} {network}", flush=True)
        for seed in args.seeds:
            every = args.eval_every or gen.max_iters
            t0 = time.process_time()
            result = train_generative(spec, cfg, gen, float(network["g"]), seed, snapshot_every=every)
            cpu = time.process_time() - t0
            snaps = result.snapshots
            if args.save:
                os.makedirs(args.save, exist_ok=True)
                np.savez(os.path.join(args.save, f"{name}-s{seed}.npz"), **snaps)
            for k, it in enumerate(snaps["iteration"]):
                if it == 0 or (args.eval_every == 0 and it != gen.max_iters):
                    continue
                params = Params(*(snaps[key][k] for key in ("W_in", "W", "b", "W_out", "b_out")))
                tv = evaluate_generator(params, cfg, gen, spec, args.eval_trials or s.eval_trials, s.eval_steps,
                                        s.eval_seed, s.max_dwell)
                main3 = [tv["occupancy_tv"], tv["transition_tv"], tv["dwell_tv"]]
                floor = [tv["floor_occupancy_tv"], tv["floor_transition_tv"], tv["floor_dwell_tv"]]
                ok = "yes" if max(main3) <= args.tolerance else "no"
                lags = lagged_pair_tvs(params, cfg, gen, spec, args.lags, args.eval_trials or s.eval_trials,
                                       s.eval_steps, s.eval_seed) if args.lags else {}
                cpu_at = cpu * it / gen.max_iters
                print(f"{name:8s} {seed:4d} {cfg.n_rec:4d} {gen.n_noise:5d} {gen.n_steps:5d} {gen.epsilon:5g} "
                      f"{int(it):5d} {cpu_at:7.1f}  " + " ".join(f"{v:6.3f}" for v in main3) + "  "
                      + " ".join(f"{v:6.3f}" for v in floor) + f"  {ok:>7s}"
                      + "".join(f"  {v:6.3f}" for v in lags.values()), flush=True)


if __name__ == "__main__":
    main()
