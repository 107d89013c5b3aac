#!/usr/bin/env python3
"""Write test/unit/results/stats-reference.json: reference values from gbstats, scipy and
statsmodels for the TypeScript statistics core (services/results/stats).

Run from anywhere with any Python 3.9+: `python3 scripts/stats-reference/generate.py`.
It creates the git-ignored venv .stack/tools/stats-venv, installs the pinned
requirements.txt from PyPI and re-runs itself inside it. The output is deterministic for a
given seed and package set; commit it (CI runs only the TypeScript side).

Every expected value is computed by the reference packages themselves; where our documented
behaviour deliberately differs from gbstats 0.8.0 the case records the transformation used
(see docs/statistics.md, "Where we differ from gbstats").
"""
import json
import math
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV = os.path.join(ROOT, ".stack", "tools", "stats-venv")
OUT = os.path.join(ROOT, "test", "unit", "results", "stats-reference.json")
SEED = 20260611


def ensure_venv() -> None:
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    req = os.path.join(os.path.dirname(os.path.abspath(__file__)), "requirements.txt")
    subprocess.check_call([py, "-m", "pip", "install", "-q", "-r", req])
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


ensure_venv()

import importlib.metadata  # noqa: E402

import numpy as np  # noqa: E402
from scipy import optimize, stats  # noqa: E402
from statsmodels.stats.multitest import multipletests  # noqa: E402
from statsmodels.stats.power import NormalIndPower  # noqa: E402

from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior  # noqa: E402
from gbstats.frequentist.tests import (  # noqa: E402
    FrequentistConfig,
    OneSidedTreatmentGreaterTTest,
    OneSidedTreatmentLesserTTest,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (  # noqa: E402
    ProportionStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
    compute_theta,
)
from gbstats.utils import check_srm  # noqa: E402

rng = np.random.default_rng(SEED)


def num(x):
    """JSON number; None stands for ±inf / NaN (the tests map it back)."""
    x = float(x)
    return x if math.isfinite(x) else None


# ------------------------------------------------------------------ distributions
def distributions():
    xs = [-38.0, -12.0, -8.0, -5.0, -3.3, -1.96, -1.0, -0.25, 0.0, 1e-9, 0.1, 0.7, 1.645, 2.5, 4.0, 7.5]
    xs += list(rng.normal(0, 3, 40))
    ps = [1e-300, 1e-100, 1e-20, 1e-9, 1e-4, 0.001, 0.005, 0.025, 0.05, 0.1, 0.3, 0.5, 0.6, 0.8, 0.95, 0.975,
          0.995, 0.999, 1 - 1e-9]
    ps += list(rng.uniform(0, 1, 30))
    dfs = [0.7, 1.0, 1.5, 2.0, 3.0, 4.7, 9.0, 29.5, 100.0, 1234.5, 1e5, 5e6]
    dfs += list(np.exp(rng.uniform(0, 14, 14)))
    ts = [-60.0, -9.0, -3.0, -2.0, -1.0, -0.3, 0.0, 0.4, 1.3, 2.2, 5.0, 25.0]
    t_cdf = [[t, df, num(stats.t.cdf(t, df))] for df in dfs for t in ts]
    t_cdf += [[t, df, num(stats.t.cdf(t, df))] for t, df in zip(rng.normal(0, 4, 60), np.exp(rng.uniform(0, 12, 60)))]
    t_ppf = [[p, df, num(stats.t.ppf(p, df))] for df in dfs for p in
             [1e-12, 1e-6, 0.001, 0.005, 0.025, 0.05, 0.2, 0.5, 0.7, 0.9, 0.95, 0.975, 0.995, 0.999999]]
    t_ppf += [[p, df, num(stats.t.ppf(p, df))] for p, df in zip(rng.uniform(0, 1, 60), np.exp(rng.uniform(0, 12, 60)))]
    chi = [[x, k, num(stats.chi2.sf(x, k))] for k in [1, 2, 3, 4, 7, 10, 30, 99] for x in
           [1e-6, 0.01, 0.3, 1.0, 2.7, 3.84, 6.6, 10.8, 15.0, 40.0, 120.0, 400.0]]
    chi += [[x, k, num(stats.chi2.sf(x, k))] for x, k in zip(rng.exponential(8, 40), rng.integers(1, 40, 40))]
    return {
        "normalCdf": [[x, num(stats.norm.cdf(x))] for x in xs],
        "normalQuantile": [[p, num(stats.norm.ppf(p))] for p in ps],
        "studentTCdf": t_cdf,
        "studentTQuantile": t_ppf,
        "chiSquareSf": chi,
    }


# ------------------------------------------------------------------ sufficient statistics
def draw_units(kind, n, mean_shift, pre_corr):
    """Per-unit values -> sums, so every case is internally consistent."""
    if kind == "binomial":
        p = float(np.clip(rng.uniform(0.01, 0.6) * (1 + mean_shift), 0, 1))
        pre = (rng.uniform(size=n) < p).astype(float)
        post = np.where(rng.uniform(size=n) < pre_corr, pre, (rng.uniform(size=n) < p).astype(float))
    else:
        lam = rng.uniform(0.2, 30)
        pre = rng.gamma(shape=rng.uniform(0.3, 3), scale=lam, size=n)
        noise = rng.gamma(shape=rng.uniform(0.3, 3), scale=lam, size=n)
        post = (pre_corr * pre + (1 - pre_corr) * noise) * (1 + mean_shift)
        if kind == "count":
            post, pre = np.round(post), np.round(pre)
    den = rng.poisson(rng.uniform(0.5, 6), size=n).astype(float) + (rng.uniform(size=n) < 0.8)
    num_ratio = den * rng.gamma(2, rng.uniform(1, 20), size=n) * (1 + mean_shift)
    return {
        "post": post, "pre": pre, "den": den, "numRatio": num_ratio,
    }


def sums(kind, u, ratio):
    main = u["numRatio"] if ratio else u["post"]
    out = {
        "n": int(len(main)),
        "sum": float(main.sum()),
        "sumSquares": float((main ** 2).sum()),
    }
    if ratio:
        out.update(denominatorSum=float(u["den"].sum()), denominatorSumSquares=float((u["den"] ** 2).sum()),
                   mainDenominatorSumProduct=float((main * u["den"]).sum()))
    else:
        out.update(covariateSum=float(u["pre"].sum()), covariateSumSquares=float((u["pre"] ** 2).sum()),
                   mainCovariateSumProduct=float((main * u["pre"]).sum()))
    return out


def gb_component(ctype, n, s, ss):
    return ProportionStatistic(n=n, sum=s) if ctype == "binomial" else SampleMeanStatistic(n=n, sum=s, sum_squares=ss)


def gb_statistic(metric, cuped, v):
    mtype = "binomial" if metric["type"] == "binomial" else "count"
    if metric["type"] == "ratio":
        return RatioStatistic(
            n=v["n"],
            m_statistic=gb_component(metric.get("numeratorType", "count"), v["n"], v["sum"], v["sumSquares"]),
            d_statistic=gb_component(metric.get("denominatorType", "count"), v["n"], v["denominatorSum"],
                                     v["denominatorSumSquares"]),
            m_d_sum_of_products=v["mainDenominatorSumProduct"],
        )
    post = gb_component(mtype, v["n"], v["sum"], v["sumSquares"])
    if not cuped:
        return post
    return RegressionAdjustedStatistic(
        n=v["n"], post_statistic=post,
        pre_statistic=gb_component(mtype, v["n"], v["covariateSum"], v["covariateSumSquares"]),
        post_pre_sum_of_products=v["mainCovariateSumProduct"], theta=0,
    )


# ------------------------------------------------------------------ tests
def run_case(case):
    metric, cuped, s = case["metric"], case["cuped"], case["settings"]
    a = gb_statistic(metric, cuped, case["a"])
    b = gb_statistic(metric, cuped, case["b"])
    theta = compute_theta(a, b) if cuped else 0.0
    expected = {"theta": num(theta)}
    # Per-variant statistics as gbstats sees them (before CUPED for the raw mean).
    for key, st in (("a", a), ("b", b)):
        base = st.post_statistic if cuped else st
        expected[key] = {"mean": num(base.mean), "variance": num(base.variance)}
    base_cfg = dict(difference_type=s["difference"])
    if s["engine"] == "frequentist":
        alt, seq = s["alternative"], s.get("sequentialTuning")
        if seq is not None:
            test = SequentialTwoSidedTTest(a, b, SequentialConfig(**base_cfg, alpha=s["alpha"],
                                                                  sequential_tuning_parameter=seq))
        else:
            cls = {"two-sided": TwoSidedTTest, "greater": OneSidedTreatmentGreaterTTest,
                   "less": OneSidedTreatmentLesserTTest}[alt]
            test = cls(a, b, FrequentistConfig(**base_cfg, alpha=s["alpha"]))
        r = test.compute_result()
        ci = list(r.ci)
        if alt == "less" and seq is None and r.error_message is None:
            # gbstats 0.8.0 returns estimate - halfwidth as the upper bound; we (and later gbstats)
            # use estimate + halfwidth. Same halfwidth from gbstats, reflected.
            ci[1] = 2 * r.expected - ci[1]
        expected.update(error=r.error_message, estimate=num(r.expected), standardError=num(r.uplift.stddev),
                        ci=[num(ci[0]), num(ci[1])], pValue=num(r.p_value),
                        dof=num(test.dof) if r.error_message is None else None)
    else:
        prior = s["prior"]
        test = EffectBayesianABTest(a, b, EffectBayesianConfig(
            **base_cfg, inverse=s["inverse"], alpha=s["alpha"], prior_type="relative",
            prior_effect=GaussianPrior(mean=prior["mean"], variance=prior["stddev"] ** 2, proper=prior["proper"])))
        r = test.compute_result()
        expected.update(error=r.error_message, expected=num(r.expected), stddev=num(r.uplift.stddev),
                        ci=[num(r.ci[0]), num(r.ci[1])], chanceToWin=num(r.chance_to_win),
                        risk=[num(r.risk[0]), num(r.risk[1])])
    case["expected"] = expected
    return case


def random_settings(engine):
    s = {"engine": engine, "difference": str(rng.choice(["relative", "absolute"])),
         "alpha": float(rng.choice([0.05, 0.05, 0.1, 0.01]))}
    if engine == "frequentist":
        s["alternative"] = str(rng.choice(["two-sided", "two-sided", "greater", "less"]))
        if s["alternative"] == "two-sided" and rng.uniform() < 0.35:
            s["sequentialTuning"] = float(rng.choice([5000, 1000, 20000, 300]))
    else:
        s["inverse"] = bool(rng.uniform() < 0.3)
        proper = bool(rng.uniform() < 0.5)
        s["prior"] = {"mean": float(rng.choice([0.0, 0.02, -0.05])) if proper else 0.0,
                      "stddev": float(rng.choice([0.3, 0.1, 1.0])), "proper": proper}
    return s


def random_cases(count):
    cases = []
    kinds = ["binomial", "count", "mean", "ratio"]
    for i in range(count):
        kind = kinds[i % 4]
        metric = {"type": kind}
        if kind == "ratio":
            metric.update(numeratorType="count", denominatorType="count")
        cuped = kind != "ratio" and bool(rng.uniform() < 0.4)
        n_a = int(np.exp(rng.uniform(np.log(3), np.log(60000))))
        n_b = max(2, int(n_a * rng.uniform(0.8, 1.25)))
        corr = float(rng.uniform(0, 0.9))
        shift = float(rng.normal(0, 0.08))
        ua = draw_units(kind, n_a, 0.0, corr)
        ub = draw_units(kind, n_b, shift, corr)
        ratio = kind == "ratio"
        engine = "frequentist" if i % 2 == 0 else "bayesian"
        cases.append({"id": f"random-{i}", "metric": metric, "cuped": cuped,
                      "a": sums(kind, ua, ratio), "b": sums(kind, ub, ratio), "settings": random_settings(engine)})
    return cases


def edge_cases():
    def binom(n, s):
        return {"n": n, "sum": float(s), "sumSquares": float(s)}

    def mean(n, s, ss):
        return {"n": n, "sum": float(s), "sumSquares": float(ss)}

    freq = {"engine": "frequentist", "difference": "relative", "alpha": 0.05, "alternative": "two-sided"}
    bayes = {"engine": "bayesian", "difference": "relative", "alpha": 0.05, "inverse": False,
             "prior": {"mean": 0.0, "stddev": 0.3, "proper": False}}
    b = {"type": "binomial"}
    c = {"type": "count"}
    out = []

    def add(name, metric, a, bb, settings, cuped=False):
        out.append({"id": f"edge-{name}", "metric": metric, "cuped": cuped, "a": a, "b": bb, "settings": settings})

    # The anchor: blue vs green orders.
    for eng in (freq, bayes):
        add(f"anchor-{eng['engine']}", b, binom(2505, 274), binom(2495, 333), dict(eng))
    add("anchor-sequential", b, binom(2505, 274), binom(2495, 333), dict(freq, sequentialTuning=5000.0))
    add("anchor-absolute", b, binom(2505, 274), binom(2495, 333), dict(freq, difference="absolute"))
    for eng in (freq, bayes):
        e = eng["engine"]
        add(f"zero-baseline-{e}", b, binom(1000, 0), binom(1000, 12), dict(eng))
        add(f"zero-variance-both-{e}", b, binom(500, 500), binom(500, 500), dict(eng))
        add(f"zero-variance-treatment-{e}", c, mean(40, 120, 360), mean(40, 80, 160), dict(eng))
        add(f"tiny-n2-{e}", c, mean(2, 3, 5), mean(2, 7, 25), dict(eng))
        add(f"tiny-n1-{e}", c, mean(1, 3, 9), mean(3, 7, 19), dict(eng))
        add(f"empty-variant-{e}", b, binom(100, 10), binom(0, 0), dict(eng))
        add(f"huge-n-{e}", b, binom(10_000_000, 1_234_567), binom(10_000_000, 1_236_000), dict(eng))
        add(f"certain-win-{e}", b, binom(50_000, 1000), binom(50_000, 3000), dict(eng))
        add(f"rounding-negative-variance-{e}", c, mean(3, 3e8 + 3, 3e16 + 2e8 + 3), mean(3, 3e8, 3e16), dict(eng))
        add(f"negative-mean-absolute-{e}", c, mean(200, -150.0, 900.0), mean(200, -90.0, 800.0),
            dict(eng, difference="absolute"))
    # CUPED: constant pre-period (theta = 0, falls back to unadjusted) and a strong covariate.
    pre_const = dict(covariateSum=50.0, covariateSumSquares=50.0, mainCovariateSumProduct=20.0)
    add("cuped-constant-pre", c, {**mean(50, 40, 90), **pre_const}, {**mean(50, 55, 120), **pre_const},
        dict(freq), cuped=True)
    # Ratio with a zero denominator in the baseline.
    zero_den = {"type": "ratio", "numeratorType": "count", "denominatorType": "count"}
    add("ratio-zero-denominator", zero_den,
        {**mean(100, 0, 0), "denominatorSum": 0.0, "denominatorSumSquares": 0.0, "mainDenominatorSumProduct": 0.0},
        {**mean(100, 30, 40), "denominatorSum": 20.0, "denominatorSumSquares": 30.0, "mainDenominatorSumProduct": 35.0},
        dict(freq))
    return out


# ------------------------------------------------------------------ SRM, corrections, power
def srm_cases():
    out = [{"units": [2505, 2495], "weights": [0.5, 0.5]}, {"units": [0, 0], "weights": [0.5, 0.5]},
           {"units": [5000, 4700], "weights": [0.5, 0.5]}, {"units": [100, 0, 98], "weights": [0.4, 0.2, 0.4]},
           {"units": [700, 300, 10], "weights": [0.7, 0.3, 0.0]}]
    for _ in range(40):
        k = int(rng.integers(2, 6))
        w = rng.dirichlet(np.ones(k))
        total = int(np.exp(rng.uniform(np.log(20), np.log(2e6))))
        drift = w * (1 + rng.normal(0, 0.02, k))
        units = rng.multinomial(total, drift / drift.sum())
        out.append({"units": [int(u) for u in units], "weights": [float(x) for x in w]})
    for c in out:
        c["pValue"] = num(check_srm(c["units"], c["weights"]))
    return out


def correction_cases():
    out = []
    for _ in range(30):
        m = int(rng.integers(1, 15))
        p = np.concatenate([rng.uniform(0, 0.06, m // 2), rng.uniform(0, 1, m - m // 2)])
        if rng.uniform() < 0.3 and m > 2:
            p[1] = p[0]  # ties
        p = [float(x) for x in rng.permutation(p)]
        holm = multipletests(p, method="holm")[1]
        bh = multipletests(p, method="fdr_bh")[1]
        est = [float(x) for x in rng.normal(0, 0.2, m)]
        # GrowthBook's adjusted interval, evaluated with scipy's normal quantiles.
        ci = []
        for e, pa in zip(est, holm):
            if e == 0 or pa >= 1:
                ci.append(None)
            else:
                se = abs(e / stats.norm.ppf(1 - pa / 2))
                h = stats.norm.ppf(0.975) * se
                ci.append([num(e - h), num(e + h)])
        out.append({"pValues": p, "holm": [num(x) for x in holm], "bh": [num(x) for x in bh],
                    "estimates": est, "holmCi95": ci})
    return out


def power_cases():
    nip = NormalIndPower()
    se_cases = []
    for _ in range(40):
        sigma = float(rng.uniform(0.1, 10))
        n = int(np.exp(rng.uniform(np.log(20), np.log(1e6))))
        se = sigma * math.sqrt(2 / n)
        effect = float(abs(rng.normal(0, 2.5)) * se)
        alpha = float(rng.choice([0.05, 0.1, 0.01]))
        target = float(rng.choice([0.8, 0.9, 0.5]))
        # statsmodels: standardized effect d = effect / sigma with n per arm, both tails.
        power = nip.power(effect_size=effect / sigma, nobs1=n, alpha=alpha, ratio=1.0, alternative="two-sided")
        power1 = nip.power(effect_size=effect / sigma, nobs1=n, alpha=alpha, ratio=1.0, alternative="larger")
        # solve_power stops near 1e-5; root-find statsmodels' own power function tightly instead.
        d = optimize.brentq(lambda x: nip.power(effect_size=x, nobs1=n, alpha=alpha, ratio=1.0,
                                                alternative="two-sided") - target, 1e-12, 1e3,
                            xtol=1e-15, rtol=1e-14)
        se_cases.append({"effect": effect, "se": se, "alpha": alpha, "targetPower": target,
                         "power": num(power), "powerOneSided": num(power1), "detectableEffect": num(d * sigma)})

    # GrowthBook's planning formulas (packages/shared/src/power/power.ts), evaluated with scipy.
    z = stats.norm.ppf

    def seq_factor(n_total, alpha, tuning):
        rho = math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)
        return 2 * (n_total * rho ** 2 + 1) * math.log(math.sqrt(n_total * rho ** 2 + 1) / alpha) / (n_total * rho) ** 2

    plans = []
    for _ in range(30):
        binomial = rng.uniform() < 0.5
        mean = float(rng.uniform(0.02, 0.5)) if binomial else float(rng.uniform(1, 100))
        var = mean * (1 - mean) if binomial else float((mean * rng.uniform(0.3, 3)) ** 2)
        n = float(int(np.exp(rng.uniform(np.log(200), np.log(2e5)))))
        effect = float(rng.uniform(0.005, 0.3))
        alpha = float(rng.choice([0.05, 0.1]))
        tuning = float(rng.choice([5000, 20000])) if rng.uniform() < 0.3 else None
        v = var / (mean ** 2 * n) + var * (mean * (1 + effect)) ** 2 / (mean ** 4 * n)
        if tuning:
            v = v * 2 * n * seq_factor(2 * n, alpha, tuning) / z(1 - alpha / 2) ** 2
        se = math.sqrt(v)
        power = 1 - stats.norm.cdf(z(1 - alpha / 2) - effect / se) + stats.norm.cdf(-z(1 - alpha / 2) - effect / se)
        zz = z(1 - alpha / 2) - z(1 - 0.8)
        vv = var
        if tuning:
            vv = var * 2 * n * seq_factor(2 * n, alpha, tuning) / z(1 - alpha / 2) ** 2
        if n <= vv * zz ** 2 / mean ** 2:
            mde = None
        else:
            s2 = vv / n
            aq, bq, cq = 1 - zz ** 2 * s2 / mean ** 2, -2 * mean, mean ** 2 - zz ** 2 * s2
            mde = ((-bq + math.sqrt(bq ** 2 - 4 * aq * cq)) / (2 * aq) - mean) / mean
        plans.append({"baseline": {"mean": mean, "variance": var}, "effect": effect, "unitsPerVariant": n,
                      "alpha": alpha, "sequentialTuning": tuning, "power": num(power),
                      "mde80": num(mde) if mde is not None else None})

    # Mid-experiment power (gbstats MidExperimentPower, flat prior): root of power(k) = target.
    mid = []
    for _ in range(25):
        se = float(rng.uniform(0.01, 0.2))
        mde = float(rng.uniform(0.005, 0.4))
        units = float(int(rng.uniform(100, 1e5)))
        target = float(rng.choice([0.8, 0.9]))

        def pw(k):
            s = se / math.sqrt(1 + k)
            return 1 - stats.norm.cdf(z(0.975) - mde / s) + stats.norm.cdf(-z(0.975) - mde / s)

        k = 0.0 if pw(0) >= target else optimize.brentq(lambda x: pw(x) - target, 0, 1e15, xtol=1e-14, rtol=1e-14)
        mid.append({"standardError": se, "targetEffect": mde, "unitsSoFar": units, "targetPower": target,
                    "currentPower": num(pw(0)), "scalingFactor": num(k), "additionalUnits": num(k * units)})
    return {"fromStandardError": se_cases, "planning": plans, "midExperiment": mid}


def main():
    cases = edge_cases() + random_cases(400)
    cases = [run_case(c) for c in cases]
    versions = {p: importlib.metadata.version(p) for p in ("gbstats", "scipy", "numpy", "statsmodels")}
    doc = {
        "generator": "scripts/stats-reference/generate.py",
        "seed": SEED,
        "versions": versions,
        "tolerance": "|ours - reference| <= 1e-6 * max(1, |reference|): absolute below 1, relative above",
        "distributions": distributions(),
        "tests": cases,
        "srm": srm_cases(),
        "corrections": correction_cases(),
        "power": power_cases(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"), allow_nan=False, default=lambda o: o.item())
        f.write("\n")
    # The repository's `prettier --check .` covers JSON; format with the project's prettier if present.
    try:
        subprocess.run(["npx", "--no-install", "prettier", "--write", OUT], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        print("prettier not available: run `npx prettier --write` on the output before committing")
    print(f"wrote {OUT}: {len(cases)} test cases")


if __name__ == "__main__":
    main()
