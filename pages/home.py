"""Home: what the reparameterization trick is, and where each view shows it."""

import streamlit as st

from reparam_ui.shell import ensure_app_shell

ensure_app_shell()

st.title("Reparam Lab")
st.markdown(
    "See and measure the **reparameterization trick**: the change of variables behind it, the "
    "gradient estimators it competes with, a VAE that trains live with it — or without it — and "
    "the diffusion model's forward process, which is the trick applied at every noise level."
)

left, right = st.columns([3, 2], gap="large")

with left:
    st.subheader("1 · A change of variables")
    st.markdown(
        "Take $x \\sim \\mathcal N(\\mu, \\sigma^2)$ and the increasing map "
        "$y = h(x) = (x-\\mu)/\\sigma$, with inverse $x = g(y) = \\mu + \\sigma y$. For a strictly "
        "monotone, differentiable $h$ with $h'(x) \\neq 0$ (so that $g$ is differentiable too: "
        "$h(x) = x^3$ fails at 0) the density of $y$ is"
    )
    st.latex(r"f_Y(y) = f_X\big(g(y)\big)\,\lvert g'(y)\rvert .")
    st.markdown("Here $g'(y) = \\sigma$, so")
    st.latex(
        r"\begin{aligned} f_Y(y) &= \frac{\sigma}{\sqrt{2\pi\sigma^2}}"
        r"\, e^{-(\mu+\sigma y-\mu)^2/(2\sigma^2)} \\"
        r"&= \frac{1}{\sqrt{2\pi}}\, e^{-y^2/2} \\ &= \mathcal N(y \mid 0, 1). \end{aligned}"
    )
    st.markdown(
        "Read backwards: every $\\mathcal N(\\mu,\\sigma^2)$ sample is "
        "$x = \\mu + \\sigma\\varepsilon$ with $\\varepsilon \\sim \\mathcal N(0,1)$."
    )

    st.subheader("2 · Why it helps with gradients")
    st.markdown(
        "We want $\\nabla_\\theta\\, \\mathbb E_{x\\sim p_\\theta}[f(x)]$, with "
        "$\\theta = (\\mu, \\sigma)$. The difficulty is **not** $f$: it is the *sampling step*, "
        "whose distribution depends on $\\theta$, so we cannot push $\\nabla_\\theta$ through "
        "a random draw. The trick moves $\\theta$ out of the distribution and into a "
        "deterministic map, $x = g_\\theta(\\varepsilon)$, with $\\varepsilon \\sim p(\\varepsilon)$ "
        "free of $\\theta$:"
    )
    st.latex(
        r"\begin{aligned}&\nabla_\theta\,\mathbb E_{x\sim p_\theta}[f(x)]\\"
        r"&\quad= \nabla_\theta\,\mathbb E_{\varepsilon}\big[f(g_\theta(\varepsilon))\big]\\"
        r"&\quad= \mathbb E_{\varepsilon}\big[f'(g_\theta(\varepsilon))\,"
        r"\nabla_\theta g_\theta(\varepsilon)\big].\end{aligned}"
    )
    st.markdown(
        "The expectation is now over a fixed distribution, so the gradient moves inside. "
        "But the chain-rule step needs $f$ **absolutely continuous** (differentiable almost "
        "everywhere, no jumps) — the opposite of a common slogan. A kink is fine: $f(x) = |x|$ "
        "gives the right gradient, as the gradient page shows. For a step function the pathwise "
        "estimate is 0 "
        "almost surely while the true gradient is not. The score-function (REINFORCE) estimator "
        "$f(x)\\,\\nabla_\\theta \\log p_\\theta(x)$ needs no derivative of $f$, at the price of "
        "variance."
    )

with right:
    st.subheader("The views")
    st.page_link(
        "pages/change_of_variables.py",
        label="Change of variables",
        icon=":material/swap_horiz:",
        help="Animate N(μ,σ²) → N(0,1) and back; check the density formula on samples.",
    )
    st.caption(
        "Watch samples move under $y=(x-\\mu)/\\sigma$ and $x=\\mu+\\sigma\\varepsilon$; "
        "check $f_Y = f_X(g)\\,|g'|$ numerically, also for exp, sigmoid and other maps."
    )
    st.page_link(
        "pages/gradient_estimators.py",
        label="Gradient estimators",
        icon=":material/query_stats:",
        help="Pathwise vs score function vs baseline vs measure-valued.",
    )
    st.caption(
        "Exact gradients and variances, Monte Carlo runs, Figure 2 of Mohamed et al. (2020), "
        "and the cases where each estimator fails."
    )
    st.page_link(
        "pages/live_vae.py",
        label="Live VAE",
        icon=":material/neurology:",
        help="Train a tiny VAE on 2D data in the page.",
    )
    st.caption(
        "Train a VAE while you watch; switch the encoder gradient between the trick and "
        "REINFORCE and see the difference in loss and gradient noise."
    )
    st.page_link(
        "pages/diffusion.py",
        label="Diffusion",
        icon=":material/blur_on:",
        help="The forward process as the trick; a small diffusion model trained in the page.",
    )
    st.caption(
        "Watch data noise into $\\mathcal N(0, I)$ through $x_t = \\sqrt{\\bar\\alpha_t}\\,x_0 + "
        "\\sqrt{1-\\bar\\alpha_t}\\,\\varepsilon$, train a denoiser live, and run its sampler "
        "back to data beside one with the exact score."
    )
    st.divider()
    st.caption(
        "Source text: a short blog post on the trick (its derivation is completed and its "
        "motivation corrected here). Numbers: Mohamed, Rosca, Figurnov, Mnih (2020), "
        "arXiv:1906.10652; Kingma & Welling (2013), arXiv:1312.6114."
    )
