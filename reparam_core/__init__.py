"""reparam_core: the computation behind Reparam Lab (numpy, torch). Never imports streamlit.

Modules:
- `transforms`: invertible monotone maps with forward, inverse and log|det J| (change of variables).
- `functions`: test functions f(x; k) with value and derivative.
- `estimators`: Monte Carlo estimators of d/dθ E_{x~N(μ,σ²)}[f(x)] and their exact statistics.
- `vae`: a tiny VAE on 2D toy data, trained in bounded chunks (imports torch).
"""
