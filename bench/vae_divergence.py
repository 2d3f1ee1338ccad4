"""How often the Live VAE's default run diverges, per estimator and stabilizer, over many seeds.

    python bench/vae_divergence.py score --seeds 40 --steps 2000
    python bench/vae_divergence.py score --encoder-lr-scale 1.0       # without the slower encoder
    python bench/vae_divergence.py score --encoder-lr-scale 1.0 --clip 100   # clipping instead
    python bench/vae_divergence.py score --pathwise-steps 3000 --steps 6000  # after a pathwise phase

Trains `reparam_core.vae_train.Trainer` on the page's defaults (moons, `TrainConfig()`), one
seed per run on two worker processes, and prints per run and in total: diverged (the trainer's
own check), "wandered" (not diverged, but the mean −ELBO of the last training rows above
`WANDERED` nats: far off the data without tripping the check), and the held-out IWAE at every
evaluation of the runs that did neither. `--encoder-lr-scale` overrides
`vae_train.ENCODER_LR_SCALE` for the estimator; `--clip C` clips the gradient's global norm to C
before every Adam step (encoder and decoder); `--pathwise-steps N` trains pathwise for N steps
and then continues the same model, optimizer and data with the estimator.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import replace
from multiprocessing import Pool

import _path  # noqa: F401 (first: puts the repository root on sys.path)

WANDERED = 10.0  # nats: the default run's −ELBO is below 3 after its first few hundred steps


def one_run(args: dict) -> dict:
    """Train one seed; return what happened to it."""
    import torch

    from reparam_core import vae_train as vt

    torch.set_num_threads(vt.THREADS)
    if args["encoder_lr_scale"] is not None:
        vt.ENCODER_LR_SCALE[args["estimator"]] = args["encoder_lr_scale"]
    first = "pathwise" if args["pathwise_steps"] else args["estimator"]
    config = vt.TrainConfig(seed=args["seed"], estimator=first, gradstat_every=0)
    tr = vt.Trainer(replace(config, max_seconds=86_400.0))
    if args["clip"]:
        clip, step = args["clip"], tr.optimizer.step
        tr.optimizer.step = lambda: (
            torch.nn.utils.clip_grad_norm_(tr.model.parameters(), clip),
            step(),
        )
    if args["pathwise_steps"]:
        tr.run(max_steps=args["pathwise_steps"])
        tr.config = replace(tr.config, estimator=args["estimator"])  # same model, optimizer, data
    tr.run(max_steps=args["steps"] - tr.step)
    tr.sync()
    loss = tr.history.columns()["neg_elbo"]
    recent = statistics.fmean(loss[-10:]) if loss else float("nan")
    evals = tr.evals.columns()
    return {
        "seed": args["seed"],
        "step": tr.step,
        "diverged": tr.diverged,
        "wandered": not tr.diverged and not recent <= WANDERED,
        "recent_neg_elbo": recent,
        "iwae": dict(zip((int(s) for s in evals["step"]), evals["iwae"], strict=True)),
        "message": tr.message,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("estimator", choices=("pathwise", "score", "score_baseline"))
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--pathwise-steps", type=int, default=0)
    ap.add_argument("--encoder-lr-scale", type=float, default=None)
    ap.add_argument("--clip", type=float, default=0.0)
    ap.add_argument("--json", action="store_true", help="one JSON line per run")
    a = ap.parse_args()
    jobs = [{**vars(a), "seed": s} for s in range(a.first_seed, a.first_seed + a.seeds)]
    with Pool(2) as pool:
        runs = sorted(pool.map(one_run, jobs), key=lambda r: r["seed"])
    for r in runs:
        if a.json:
            print(json.dumps(r))
        elif r["diverged"] or r["wandered"]:
            why = r["message"] or f"wandered: −ELBO {r['recent_neg_elbo']:.3g} nats"
            print(f"seed {r['seed']}: {why}")
    ok = [r for r in runs if not (r["diverged"] or r["wandered"])]
    print(
        f"{a.estimator}, {a.steps} steps ({a.pathwise_steps} pathwise first), encoder lr scale "
        f"{a.encoder_lr_scale if a.encoder_lr_scale is not None else 'default'}, clip "
        f"{a.clip or 'off'}: {sum(r['diverged'] for r in runs)} of {len(runs)} seeds diverged, "
        f"{sum(r['wandered'] for r in runs)} wandered"
    )
    for step in sorted({s for r in ok for s in r["iwae"]}):
        v = [r["iwae"][step] for r in ok if step in r["iwae"]]
        print(
            f"  held-out IWAE at step {step}: mean {statistics.fmean(v):.3f}, "
            f"median {statistics.median(v):.3f} ({len(v)} runs)"
        )


if __name__ == "__main__":
    main()
