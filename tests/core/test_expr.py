"""The safe expression parser: values against numpy formulas, derivatives against hand-derived
ones and central differences, and hostile inputs refused with a ValueError naming what."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import erf as scipy_erf

from reparam_core import expr
from reparam_core.expr import check_finite, nonfinite_points, parse_function

XS = np.linspace(-2.0, 2.0, 41) + 0.013  # avoids x = 0 and other special points exactly

# (source, k, f(x, k), f'(x, k)) — f' derived by hand.
CASES = [
    (
        "sin(3*x) + x**2",
        0.0,
        lambda x, k: np.sin(3 * x) + x**2,
        lambda x, k: 3 * np.cos(3 * x) + 2 * x,
    ),
    ("(x - k)**2", 1.5, lambda x, k: (x - k) ** 2, lambda x, k: 2 * (x - k)),
    (
        "exp(-k*x**2)",
        2.0,
        lambda x, k: np.exp(-k * x**2),
        lambda x, k: -2 * k * x * np.exp(-k * x**2),
    ),
    ("cos(k*x)", 3.0, lambda x, k: np.cos(k * x), lambda x, k: -k * np.sin(k * x)),
    ("x**3 / 6 - x", 0.0, lambda x, k: x**3 / 6 - x, lambda x, k: x**2 / 2 - 1),
    ("1 / (1 + x**2)", 0.0, lambda x, k: 1 / (1 + x**2), lambda x, k: -2 * x / (1 + x**2) ** 2),
    ("tanh(x)", 0.0, lambda x, k: np.tanh(x), lambda x, k: 1 - np.tanh(x) ** 2),
    (
        "sigmoid(k*x)",
        2.0,
        lambda x, k: 1 / (1 + np.exp(-k * x)),
        lambda x, k: k * np.exp(-k * x) / (1 + np.exp(-k * x)) ** 2,
    ),
    ("softplus(x)", 0.0, lambda x, k: np.log(1 + np.exp(x)), lambda x, k: 1 / (1 + np.exp(-x))),
    ("erf(x)", 0.0, lambda x, k: scipy_erf(x), lambda x, k: 2 / np.sqrt(np.pi) * np.exp(-(x**2))),
    (
        "arctan(x) + sinh(x) - cosh(x)",
        0.0,
        lambda x, k: np.arctan(x) - np.exp(-x),
        lambda x, k: 1 / (1 + x**2) + np.exp(-x),
    ),
    ("sqrt(x**2 + 1)", 0.0, lambda x, k: np.sqrt(x**2 + 1), lambda x, k: x / np.sqrt(x**2 + 1)),
    (
        "log(1 + x**2) + log1p(x**2)",
        0.0,
        lambda x, k: 2 * np.log(1 + x**2),
        lambda x, k: 4 * x / (1 + x**2),
    ),
    ("2**x", 0.0, lambda x, k: 2.0**x, lambda x, k: np.log(2) * 2.0**x),
    ("exp(x)**0.5 * e**-(x/2)", 0.0, lambda x, k: np.ones_like(x), lambda x, k: np.zeros_like(x)),
    ("-x * -pi + +x", 0.0, lambda x, k: (np.pi + 1) * x, lambda x, k: np.full_like(x, np.pi + 1)),
    (
        "tan(x/2) + arcsin(x/3) + arccos(x/3)",
        0.0,
        lambda x, k: np.tan(x / 2) + np.pi / 2,
        lambda x, k: 0.5 / np.cos(x / 2) ** 2,
    ),
    ("x**k", -2.0, lambda x, k: x**-2.0, lambda x, k: -2 * x**-3.0),
]


@pytest.mark.parametrize("source,k,f,df", CASES, ids=[c[0] for c in CASES])
def test_value_and_derivative_match_the_formulas(source, k, f, df):
    fn = parse_function(source, k)
    assert fn.name == "custom" and fn.k == k and fn.smooth
    np.testing.assert_allclose(fn.f(XS), f(XS, k), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fn.df(XS), df(XS, k), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("source,k", [(c[0], c[1]) for c in CASES])
def test_derivative_matches_central_differences(source, k):
    # Central difference error ≤ h²/6 · max|f'''| + 2·eps·max|f|/h; with h = 1e-5 that is ≲ 1e-8
    # for these functions on [-2, 2] (|f'''| ≲ 1e3 for exp(-2x²), sigmoid(2x), x^-2 near 0.013 is
    # avoided by checking only |x| ≥ 0.5 for that one).
    fn = parse_function(source, k)
    xs = XS[np.abs(XS) >= 0.5] if source == "x**k" else XS
    h = 1e-5
    fd = (fn.f(xs + h) - fn.f(xs - h)) / (2 * h)
    np.testing.assert_allclose(fn.df(xs), fd, rtol=1e-6, atol=1e-6)


def test_shapes_scalars_and_constant_expressions():
    fn = parse_function("3", 0.0)
    assert fn.f(XS).shape == XS.shape and np.all(fn.f(XS) == 3.0)
    assert np.all(fn.df(XS) == 0.0)
    grid = XS.reshape(41, 1) * np.ones((1, 3))
    sq = parse_function("x**2", 0.0)
    assert sq.f(grid).shape == (41, 3) and np.allclose(sq.df(grid), 2 * grid)
    assert float(sq.f(1.5)) == 2.25 and float(sq.df(1.5)) == 3.0


@pytest.mark.parametrize(
    "source,f,df",
    [
        ("step(x - k)", lambda x: (x > 0.5) * 1.0, lambda x: 0 * x),
        ("abs(x - k)", lambda x: np.abs(x - 0.5), lambda x: np.sign(x - 0.5)),
        ("sign(x)", np.sign, lambda x: 0 * x),
        ("relu(x) + x", lambda x: np.maximum(x, 0) + x, lambda x: (x > 0) + 1.0),
        ("step(x)*x**2", lambda x: (x > 0) * x**2, lambda x: (x > 0) * 2 * x),
    ],
)
def test_nonsmooth_functions_give_autograd_derivatives_and_smooth_false(source, f, df):
    fn = parse_function(source, 0.5)
    assert fn.smooth is False
    np.testing.assert_allclose(fn.f(XS), f(XS))
    np.testing.assert_allclose(fn.df(XS), df(XS))


def test_k_is_validated_and_used():
    with pytest.raises(ValueError, match="k must be finite"):
        parse_function("x", float("nan"))
    assert parse_function("x*k", 3.0).f(np.array([2.0]))[0] == 6.0
    with pytest.raises(ValueError, match="exponent too large"):
        parse_function("x**k", 50.0)


@pytest.mark.parametrize(
    "source,latex",
    [
        ("sin(3*x) + x**2", r"\sin\left(3 \, x\right) + x^{2}"),
        ("exp(-k*x**2)", r"\exp\left(-2 \, x^{2}\right)"),
        ("(x - 1)/sqrt(2*pi)", r"\frac{x - 1}{\sqrt{2 \, \pi}}"),
        ("x - (x + 1)", r"x - \left(x + 1\right)"),
        ("(-x)**2 + abs(x)", r"\left(-x\right)^{2} + \left\lvert x \right\rvert"),
        ("2*3 + 1e-05*x", r"2 \cdot 3 + 10^{-5} \, x"),
        ("step(x - k)", r"\mathbb{1}\left[x - 2 > 0\right]"),
    ],
)
def test_latex_rendering(source, latex):
    assert parse_function(source, 2.0).latex == latex


HOSTILE = [
    ("__import__('os')", "function '__import__' is not allowed"),
    ("x.__class__", "attribute access is not allowed: 'x.__class__'"),
    ("().__class__.__bases__", "attribute access is not allowed"),
    ("[x for x in ()]", "list comprehensions are not allowed"),
    ("(x for x in ())", "generator expressions are not allowed"),
    ("{x: 1}", "dicts are not allowed"),
    ("lambda: 1", "lambda is not allowed"),
    ("x[0]", "subscripts are not allowed: 'x[0]'"),
    ("open('f')", "function 'open' is not allowed"),
    ("eval('1')", "function 'eval' is not allowed"),
    ("exec('1')", "function 'exec' is not allowed"),
    ("sin.__call__(x)", "only whitelisted functions called by bare name"),
    ("sin(x)(2)", "only whitelisted functions called by bare name"),
    ("x(1)", "'x' is not a function"),
    ("9**9**9", "exponent too large"),
    ("x**1000000", "exponent too large"),
    ("x**-21", "exponent too large"),
    ("x**(10*3)", "exponent too large"),
    ("x**x**x", "power towers"),
    ("1e400", "constant '1e400' is too large"),
    ("2000000*x", "constant '2000000' is too large"),
    ("x + " * 60 + "x", "expression too long"),
    ("x+" * 70 + "x", "expression too large"),
    ("(" * 30 + "x" + ")" * 30, "at most 20 levels of brackets"),
    ("-" * 65 + "x", "at most 60 levels of operations"),
    ("(" * 500 + "x" + ")" * 500, "expression too long"),
    ("foo", "name 'foo' is not allowed"),
    ("os", "name 'os' is not allowed"),
    ("__builtins__", "name '__builtins__' is not allowed"),
    ("sin", "function 'sin' must be called"),
    ("sin(x=1)", "keyword arguments are not allowed"),
    ("sin(*x)", "starred arguments are not allowed"),
    ("sin(**x)", "keyword arguments are not allowed"),
    ("sin()", "sin() takes 1 argument, got 0"),
    ("exp(x, 2)", "exp() takes 1 argument, got 2"),
    ("'abc'", "strings are not allowed"),
    ("b'abc'", "strings are not allowed"),
    ("f'{x}'", "f-strings are not allowed"),
    ("(y := 1)", "assignment expressions (:=) are not allowed"),
    ("x < 1", "comparisons are not allowed"),
    ("0 < x < 1", "comparisons are not allowed"),
    ("x == x", "comparisons are not allowed"),
    ("x and 1", "boolean operators (and/or) are not allowed"),
    ("not x", "operator 'not' is not allowed"),
    ("~x", "operator '~' is not allowed"),
    ("x if x else 1", "conditional expressions (if/else) are not allowed"),
    ("x ^ 2", "use ** for powers"),
    ("x % 2", "operator '%' is not allowed"),
    ("x // 2", "operator '//' is not allowed"),
    ("x @ x", "operator '@' is not allowed"),
    ("True", "constant True is not allowed"),
    ("None", "constant None is not allowed"),
    ("...", "constant Ellipsis is not allowed"),
    ("1j * x", "complex numbers are not allowed"),
    ("(1, 2)", "tuples are not allowed"),
    ("await x", "await is not allowed"),
    ("", "expression is empty"),
    ("   \n\t ", "expression is empty"),
    ("x = 1", "not valid syntax"),
    ("import os", "not valid syntax"),
    ("x; 1", "not valid syntax"),
    ("sin(x", "not valid syntax"),
    ("x\x00", "not valid syntax"),
    ("1 +", "not valid syntax"),
    ("x + \\\n 1", "backslashes are not allowed"),
    ("'\\d'", "backslashes are not allowed"),
]


@pytest.mark.parametrize("source,message", HOSTILE, ids=[repr(h[0][:25]) for h in HOSTILE])
def test_hostile_input_is_refused_with_a_message_naming_it(source, message):
    with pytest.raises(ValueError) as info:
        parse_function(source, 1.0)
    assert message in str(info.value)


def test_non_text_is_refused():
    with pytest.raises(ValueError, match="must be text"):
        parse_function(None, 1.0)  # type: ignore[arg-type]


def test_limits_are_exposed_and_the_largest_accepted_input_evaluates():
    assert expr.MAX_SOURCE_LEN == 200 and expr.MAX_EXPONENT == 20 and expr.MAX_CONSTANT == 1e6
    assert "sin" in expr.ALLOWED_FUNCTIONS and "eval" not in expr.ALLOWED_FUNCTIONS
    assert set(expr.NONSMOOTH_FUNCTIONS) <= set(expr.ALLOWED_FUNCTIONS)
    assert expr.ALLOWED_NAMES == ("x", "k", "pi", "e")
    assert parse_function(expr.EXAMPLE, 1.0).smooth
    # At the limits, but accepted: 20 nested brackets, exponent 20, constant 1e6, 100 terms.
    parse_function("(" * 20 + "x" + ")" * 20, 1.0)
    big = parse_function("1000000 * x**20 + " + "+".join(["x"] * 45), 1.0)
    assert big.f(np.array([1.0]))[0] == 1e6 + 45


def test_evaluation_errors_give_nan_or_inf_never_exceptions_or_warnings():
    xs = np.array([-1.0, 0.0, 1.0, 1e300])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would fail the test
        for source in [
            "log(x)",
            "1/x",
            "exp(1000*x)",
            "sqrt(-x)",
            "x**-20",
            "arcsin(2*x)",
            "0**-1 + x",
            "x**x",
            "exp(exp(exp(x)))",
            "tan(pi/2)*x",
            "erf(x*1e6)",
            "sigmoid(-1000000*x)",
            "softplus(1000000*x)",
        ]:
            fn = parse_function(source, 1.0)
            fx, dfx = fn.f(xs), fn.df(xs)
            assert fx.shape == dfx.shape == xs.shape
    assert np.isnan(parse_function("log(x)", 0).f(np.array([-1.0])))[0]
    assert np.isposinf(parse_function("exp(1000*x)", 0).f(np.array([1.0])))[0]


def test_check_finite_reports_the_first_bad_point():
    xs = np.linspace(-1.0, 1.0, 5)
    check_finite(parse_function("sin(x)", 1.0), xs)  # no error
    with pytest.raises(ValueError, match=r"^f\(x\) is not finite at x = 0$"):
        check_finite(parse_function("1/x", 1.0), xs)
    with pytest.raises(
        ValueError, match=r"f\(x\) is not finite at x = -1 \(and at 2 more points\)"
    ):
        check_finite(parse_function("log(x)", 1.0), xs)
    with pytest.raises(ValueError, match=r"^f'\(x\) is not finite at x = 0$"):
        check_finite(parse_function("sqrt(abs(x))", 1.0), xs)
    check_finite(parse_function("sqrt(abs(x))", 1.0), xs, derivative=False)
    np.testing.assert_array_equal(
        nonfinite_points(parse_function("log(x)", 1.0), xs), [-1, -0.5, 0]
    )


def test_module_imports_without_torch():
    code = (
        "import sys, reparam_core.expr as e; e.parse_function('sin(x)', 1).f(1.0); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(_root()))


def _root():
    from pathlib import Path

    return Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ property tests

SMALL = np.array([-1.5, -0.3, 0.0, 0.7, 2.0])


def _evaluates_quietly(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fx, dfx = fn.f(SMALL), fn.df(SMALL)
    assert fx.shape == dfx.shape == SMALL.shape
    assert fx.dtype == dfx.dtype == np.float64


@settings(max_examples=100, deadline=None)
@given(
    st.text(max_size=250)
    | st.text(alphabet="xk()+-*/.e0123456789 sincoexpqrtlg_[]'\",:=<", max_size=60)
)
def test_random_text_raises_only_value_error(source):
    try:
        fn = parse_function(source, 1.0)
    except ValueError:
        return
    _evaluates_quietly(fn)


def _exprs():
    leaves = st.sampled_from(["x", "k", "pi", "e", "2", "0.5", "0", "1e6", "1e-3"])

    def extend(children):
        return st.one_of(
            st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**"]), children).map(
                lambda t: f"({t[0]}{t[1]}{t[2]})"
            ),
            st.tuples(st.sampled_from(expr.ALLOWED_FUNCTIONS), children).map(
                lambda t: f"{t[0]}({t[1]})"
            ),
            children.map(lambda c: f"-{c}"),
        )

    return st.recursive(leaves, extend, max_leaves=12)


@settings(max_examples=100, deadline=None)
@given(_exprs(), st.floats(-5, 5))
def test_random_grammar_expressions_parse_or_refuse_and_evaluate_quietly(source, k):
    try:
        fn = parse_function(source, k)
    except ValueError as exc:  # only size limits, exponent caps and towers may refuse these
        assert any(m in str(exc) for m in ("too long", "too large", "nested", "exponent", "tower"))
        return
    _evaluates_quietly(fn)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["sin", "cos", "tanh", "arctan", "sigmoid", "softplus", "erf", "exp"]),
    st.sampled_from(["sin", "cos", "tanh", "arctan", "sigmoid", "softplus", "erf"]),
    st.floats(-2, 2),
    st.floats(-1, 1),
)
def test_chain_rule_of_random_compositions_matches_central_differences(outer, inner, a, x0):
    # g(x) = outer(a·inner(x)) + x²: entire, with |g'''| ≤ 10 on this range, so the central
    # difference with h = 1e-5 is accurate to ≲ 1e-9; the tolerance is 1e-7.
    fn = parse_function(f"{outer}(k*{inner}(x)) + x**2", a)
    h = 1e-5
    xs = np.array([x0])
    fd = (fn.f(xs + h) - fn.f(xs - h)) / (2 * h)
    assert abs(fn.df(xs)[0] - fd[0]) <= 1e-7 * (1 + abs(fd[0]))


def test_math_constants():
    assert parse_function("pi + e", 0).f(np.array([0.0]))[0] == math.pi + math.e
