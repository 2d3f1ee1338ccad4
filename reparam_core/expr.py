"""A safe parser for user-typed test functions f(x; k), e.g. ``sin(3*x) + x**2``.

The text is parsed with ``ast.parse(mode="eval")`` — never executed — and the tree is checked
against an explicit whitelist:

    numbers   finite literals with |c| ≤ MAX_CONSTANT
    names     x, k, pi, e
    operators a + b, a − b, a · b, a / b, a ** b, +a, −a   (parentheses group)
    calls     f(u) for f in ALLOWED_FUNCTIONS, by bare name, one positional argument

Everything else (attributes, subscripts, strings, comparisons, lambdas, comprehensions, keyword
or starred arguments, other names or functions, …) raises ValueError naming what was refused.
Size is bounded by MAX_SOURCE_LEN characters, MAX_NODES tree nodes, MAX_DEPTH tree depth and
MAX_NESTING bracket depth; a power a ** p with a constant exponent (k counts as one) needs
|p| ≤ MAX_EXPONENT, and in an exponent that depends on x (x ** x, 2 ** x) every inner power must
have a constant exponent, so towers like x ** x ** x are refused. Evaluation is one float64 numpy
(or torch) operation per node, so its cost is at most MAX_NODES array operations.

The value f(x) is computed by walking the checked tree with numpy under ``np.errstate(all=
"ignore")``: overflow and invalid operations give inf/nan, never an exception. The derivative
f'(x) is computed by walking the same tree with torch (imported lazily, float64) and autograd:
f'(x_i) = ∂/∂x_i Σ_j f(x_j), since f is elementwise. Use `check_finite` before plotting.

Comparisons and boolean operators are refused; write 1[u > 0] as ``step(u)``.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from reparam_core.functions import Fn, _check_k

MAX_SOURCE_LEN = 200
MAX_NODES = 100
MAX_DEPTH = 60  # > the depth of any flat sum within MAX_NODES, so sums are bounded by size
MAX_NESTING = 20
MAX_CONSTANT = 1e6
MAX_EXPONENT = 20

ALLOWED_NAMES = ("x", "k", "pi", "e")
ALLOWED_OPERATORS = ("+", "-", "*", "/", "**")
ALLOWED_FUNCTIONS = (
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "exp",
    "log",
    "log1p",
    "sqrt",
    "erf",
    "sigmoid",
    "softplus",
    "abs",
    "sign",
    "step",
    "relu",
)
# Functions with a kink or a jump: the pathwise estimator through autograd is biased for them.
NONSMOOTH_FUNCTIONS = ("abs", "sign", "step", "relu")

EXAMPLE = "sin(3*x) + x**2"
SYNTAX_HELP = (
    "An expression in `x` and `k`: numbers, `+ - * / **`, parentheses, the constants "
    "`pi` and `e`, and the functions " + ", ".join(f"`{f}`" for f in ALLOWED_FUNCTIONS) + ". "
    "`step(u)` is 1[u > 0], `sigmoid(u)` is 1/(1+e^(−u)), `softplus(u)` is log(1+e^u). "
    f"At most {MAX_SOURCE_LEN} characters; constant exponents |p| ≤ {MAX_EXPONENT}."
)

_CONSTANTS = {"pi": math.pi, "e": math.e}
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_REFUSED_OPS = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.LShift: "<<",
    ast.RShift: ">>",
}
_REFUSED_NODES = {
    ast.Attribute: "attribute access is",
    ast.Subscript: "subscripts are",
    ast.Slice: "slices are",
    ast.Lambda: "lambda is",
    ast.ListComp: "list comprehensions are",
    ast.SetComp: "set comprehensions are",
    ast.DictComp: "dict comprehensions are",
    ast.GeneratorExp: "generator expressions are",
    ast.List: "lists are",
    ast.Tuple: "tuples are",
    ast.Set: "sets are",
    ast.Dict: "dicts are",
    ast.Compare: "comparisons are",
    ast.BoolOp: "boolean operators (and/or) are",
    ast.IfExp: "conditional expressions (if/else) are",
    ast.NamedExpr: "assignment expressions (:=) are",
    ast.JoinedStr: "f-strings are",
    ast.FormattedValue: "f-strings are",
    ast.Starred: "starred arguments are",
    ast.Await: "await is",
    ast.Yield: "yield is",
    ast.YieldFrom: "yield is",
}


def _snippet(node: ast.AST, src: str = "") -> str:
    """The refused part as the user typed it (from `src`), quoted and shortened."""
    text = ast.get_source_segment(src, node) if src else None
    text = text if text else ast.unparse(node)
    return repr(text if len(text) <= 40 else text[:37] + "...")


# ---------------------------------------------------------------- validation


def _parse(source: Any) -> ast.Expression:
    """ast.parse with the size checks that must come first; any failure is a ValueError."""
    if not isinstance(source, str):
        raise ValueError(f"expression must be text, got {type(source).__name__}")
    if len(source) > MAX_SOURCE_LEN:
        raise ValueError(f"expression too long: {len(source)} > {MAX_SOURCE_LEN} characters")
    if not source.strip():
        raise ValueError("expression is empty: type a function of x, e.g. " + EXAMPLE)
    if "\\" in source:  # never needed; refusing it also avoids escape-sequence warnings
        raise ValueError("backslashes are not allowed")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ValueError(f"expression is not valid syntax{where}: {exc.msg}") from None
    except (ValueError, MemoryError, RecursionError, OverflowError) as exc:
        raise ValueError(f"expression could not be parsed: {type(exc).__name__}") from None
    return tree


def _nesting(source: str) -> int:
    depth = deepest = 0
    for ch in source:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


def _depth(node: ast.AST) -> int:
    children = list(ast.iter_child_nodes(node))
    return 1 + max((_depth(c) for c in children), default=0)


def _uses_x(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "x" for n in ast.walk(node))


def _check(node: ast.AST, k: float, src: str) -> None:
    """Refuse anything outside the whitelist, outermost construct first."""
    if isinstance(node, ast.Expression):
        _check(node.body, k, src)
    elif isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or v is None or v is Ellipsis:
            raise ValueError(f"constant {v!r} is not allowed: only numbers")
        if isinstance(v, (str, bytes)):
            raise ValueError(f"strings are not allowed: {_snippet(node, src)}")
        if isinstance(v, complex):
            raise ValueError(f"complex numbers are not allowed: {_snippet(node, src)}")
        if not isinstance(v, (int, float)):
            raise ValueError(f"constant {_snippet(node, src)} is not allowed")
        if not (abs(v) <= MAX_CONSTANT):  # also refuses inf (1e400) and nan
            raise ValueError(
                f"constant {_snippet(node, src)} is too large: |c| must be ≤ {MAX_CONSTANT:g}"
            )
    elif isinstance(node, ast.Name):
        if node.id in ALLOWED_FUNCTIONS:
            raise ValueError(f"function '{node.id}' must be called, e.g. {node.id}(x)")
        if node.id not in ALLOWED_NAMES:
            raise ValueError(
                f"name '{node.id}' is not allowed (allowed: {', '.join(ALLOWED_NAMES)})"
            )
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.UAdd, ast.USub)):
            op = {ast.Not: "not", ast.Invert: "~"}.get(type(node.op), type(node.op).__name__)
            raise ValueError(f"operator '{op}' is not allowed: {_snippet(node, src)}")
        _check(node.operand, k, src)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _OPS:
            op = _REFUSED_OPS.get(type(node.op), type(node.op).__name__)
            hint = "; use ** for powers" if op == "^" else ""
            raise ValueError(f"operator '{op}' is not allowed{hint}: {_snippet(node, src)}")
        _check(node.left, k, src)
        _check(node.right, k, src)
        if isinstance(node.op, ast.Pow):
            _check_power(node, k, src)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ValueError(
                f"only whitelisted functions called by bare name are allowed: {_snippet(node, src)}"
            )
        name = node.func.id
        if name not in ALLOWED_FUNCTIONS:
            if name in ALLOWED_NAMES:
                raise ValueError(f"'{name}' is not a function: {_snippet(node, src)}")
            raise ValueError(
                f"function '{name}' is not allowed (allowed: {', '.join(ALLOWED_FUNCTIONS)})"
            )
        if node.keywords:
            raise ValueError(f"keyword arguments are not allowed: {_snippet(node, src)}")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise ValueError(f"starred arguments are not allowed: {_snippet(node, src)}")
        if len(node.args) != 1:
            raise ValueError(f"{name}() takes 1 argument, got {len(node.args)}")
        _check(node.args[0], k, src)
    else:
        what = _REFUSED_NODES.get(type(node), f"{type(node).__name__} is")
        hint = "; use step(u) for 1[u > 0]" if isinstance(node, ast.Compare) else ""
        raise ValueError(f"{what} not allowed{hint}: {_snippet(node, src)}")


def _check_power(node: ast.BinOp, k: float, src: str) -> None:
    """a ** p: a constant p needs |p| ≤ MAX_EXPONENT; if p depends on x, the powers inside p
    must have constant exponents (2 ** (x**2) is fine, the tower x ** x ** x is refused)."""
    p = node.right
    if _uses_x(p):
        for n in ast.walk(p):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) and _uses_x(n.right):
                raise ValueError(
                    f"power towers with x in two exponents are not allowed: {_snippet(node, src)}"
                )
        return
    value = float(_numpy_eval(p, None, k))
    if not (abs(value) <= MAX_EXPONENT):
        raise ValueError(
            f"exponent too large: {_snippet(node, src)} has exponent {value:g}, "
            f"|p| must be ≤ {MAX_EXPONENT}"
        )


def validate(source: str, k: float = 0.0) -> ast.Expression:
    """The checked syntax tree of `source`; raises ValueError naming what was refused."""
    k = _check_k(k)
    tree = _parse(source)
    nodes = sum(1 for n in ast.walk(tree) if isinstance(n, ast.expr))
    if nodes > MAX_NODES:
        raise ValueError(f"expression too large: {nodes} > {MAX_NODES} terms")
    _check(tree, k, source.strip())
    if _nesting(source) > MAX_NESTING:
        raise ValueError(f"expression too deeply nested: at most {MAX_NESTING} levels of brackets")
    if _depth(tree.body) > MAX_DEPTH:
        raise ValueError(f"expression too deeply nested: at most {MAX_DEPTH} levels of operations")
    return tree


# ---------------------------------------------------------------- evaluation


def _np_erf(u: Any) -> Any:
    return np.asarray(_ERF(u), dtype=float)


_ERF = np.frompyfunc(math.erf, 1, 1)

_NUMPY_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "arcsin": np.arcsin,
    "arccos": np.arccos,
    "arctan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "exp": np.exp,
    "log": np.log,
    "log1p": np.log1p,
    "sqrt": np.sqrt,
    "erf": _np_erf,
    "sigmoid": lambda u: 0.5 * (1.0 + np.tanh(0.5 * u)),  # = 1/(1+e^−u), without overflow
    "softplus": lambda u: np.logaddexp(0.0, u),  # = log(1+e^u), without overflow
    "abs": np.abs,
    "sign": np.sign,
    "step": lambda u: np.where(u > 0, 1.0, 0.0),
    "relu": lambda u: np.maximum(u, 0.0),
}


def _torch_functions() -> dict[str, Callable[[Any], Any]]:
    import torch

    return {
        "sin": torch.sin,
        "cos": torch.cos,
        "tan": torch.tan,
        "arcsin": torch.asin,
        "arccos": torch.acos,
        "arctan": torch.atan,
        "sinh": torch.sinh,
        "cosh": torch.cosh,
        "tanh": torch.tanh,
        "exp": torch.exp,
        "log": torch.log,
        "log1p": torch.log1p,
        "sqrt": torch.sqrt,
        "erf": torch.erf,
        "sigmoid": torch.sigmoid,
        "softplus": lambda u: torch.logaddexp(torch.zeros_like(u), u),
        "abs": torch.abs,
        "sign": torch.sign,
        "step": lambda u: (u > 0).to(u.dtype),  # derivative 0, as autograd gives for a jump
        "relu": torch.relu,
    }


def _walk(node: ast.AST, x: Any, k: float, const: Callable, funcs: dict) -> Any:
    """Evaluate a checked tree; `const` makes a scalar of the backend, `funcs` maps names."""
    if isinstance(node, ast.Constant):
        return const(float(node.value))
    if isinstance(node, ast.Name):
        if node.id == "x":
            return x
        return const(k if node.id == "k" else _CONSTANTS[node.id])
    if isinstance(node, ast.UnaryOp):
        u = _walk(node.operand, x, k, const, funcs)
        return -u if isinstance(node.op, ast.USub) else u
    if isinstance(node, ast.BinOp):
        a = _walk(node.left, x, k, const, funcs)
        b = _walk(node.right, x, k, const, funcs)
        op = type(node.op)
        if op is ast.Add:
            return a + b
        if op is ast.Sub:
            return a - b
        if op is ast.Mult:
            return a * b
        if op is ast.Div:
            return a / b
        return a**b
    if isinstance(node, ast.Call):
        return funcs[node.func.id](_walk(node.args[0], x, k, const, funcs))
    raise ValueError(f"unchecked node {type(node).__name__}")  # unreachable after validate


def _numpy_eval(node: ast.AST, x: Any, k: float) -> Any:
    with np.errstate(all="ignore"):
        return _walk(node, x, k, np.float64, _NUMPY_FUNCTIONS)


def _make_f(tree: ast.Expression, k: float) -> Callable[[np.ndarray], np.ndarray]:
    def f(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            return np.asarray(_numpy_eval(tree.body, x, k) + np.zeros_like(x), dtype=float)

    return f


def _make_df(tree: ast.Expression, k: float) -> Callable[[np.ndarray], np.ndarray]:
    def df(x: np.ndarray) -> np.ndarray:
        import torch

        x = np.asarray(x, dtype=float)
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        funcs = _torch_functions()
        out = _walk(tree.body, xt, k, lambda c: torch.tensor(c, dtype=torch.float64), funcs)
        if not (isinstance(out, torch.Tensor) and out.requires_grad):
            return np.zeros_like(x)  # f does not depend on x (or only through step/sign)
        (grad,) = torch.autograd.grad(out.sum(), xt, allow_unused=True)
        if grad is None:
            return np.zeros_like(x)
        return grad.detach().numpy().reshape(x.shape)

    return df


# ---------------------------------------------------------------- LaTeX

_LATEX_FUNCS = {
    "sin": r"\sin",
    "cos": r"\cos",
    "tan": r"\tan",
    "arcsin": r"\arcsin",
    "arccos": r"\arccos",
    "arctan": r"\arctan",
    "sinh": r"\sinh",
    "cosh": r"\cosh",
    "tanh": r"\tanh",
    "exp": r"\exp",
    "log": r"\log",
    "log1p": r"\operatorname{log1p}",
    "erf": r"\operatorname{erf}",
    "sigmoid": r"\operatorname{sigmoid}",
    "softplus": r"\operatorname{softplus}",
    "sign": r"\operatorname{sign}",
    "relu": r"\operatorname{relu}",
}


def _latex_number(v: float) -> str:
    s = repr(v) if isinstance(v, float) else str(v)
    if s.endswith(".0"):
        s = s[:-2]
    if "e" in s:
        mantissa, exponent = s.split("e")
        exponent = str(int(exponent))
        return (f"{mantissa} \\times " if mantissa != "1" else "") + f"10^{{{exponent}}}"
    return s


def _latex(node: ast.AST, k: float) -> tuple[str, int]:
    """(LaTeX, precedence): 1 sum, 2 product, 3 unary minus, 4 power, 5 atom."""
    if isinstance(node, ast.Constant):
        return _latex_number(node.value), 5
    if isinstance(node, ast.Name):
        if node.id == "pi":
            return r"\pi", 5
        if node.id == "k":
            s = _latex_number(k)
            return (s, 3) if k < 0 else (s, 5)
        return node.id, 5
    if isinstance(node, ast.UnaryOp):
        s, p = _latex(node.operand, k)
        s = f"\\left({s}\\right)" if p <= 1 else s
        return ("-" if isinstance(node.op, ast.USub) else "+") + s, 3
    if isinstance(node, ast.Call):
        name = node.func.id
        s, _ = _latex(node.args[0], k)
        if name == "sqrt":
            return f"\\sqrt{{{s}}}", 5
        if name == "abs":
            return f"\\left\\lvert {s} \\right\\rvert", 5
        if name == "step":
            return f"\\mathbb{{1}}\\left[{s} > 0\\right]", 5
        return f"{_LATEX_FUNCS[name]}\\left({s}\\right)", 5
    assert isinstance(node, ast.BinOp)
    a, pa = _latex(node.left, k)
    b, pb = _latex(node.right, k)
    op = type(node.op)
    if op is ast.Div:
        return f"\\frac{{{a}}}{{{b}}}", 5
    if op is ast.Pow:
        a = f"\\left({a}\\right)" if pa <= 4 else a
        return f"{a}^{{{b}}}", 4
    if op is ast.Mult:
        a = f"\\left({a}\\right)" if pa == 1 else a
        b = f"\\left({b}\\right)" if pb in (1, 3) else b
        sep = " \\cdot " if b[:1].isdigit() else " \\, "
        return f"{a}{sep}{b}", 2
    if pb == 3 or (op is ast.Sub and pb == 1):  # a + (−b), a − (b + c)
        b = f"\\left({b}\\right)"
    return f"{a} {'+' if op is ast.Add else '-'} {b}", 1


# ---------------------------------------------------------------- public API


def parse_function(source: str, k: float) -> Fn:
    """Parse a user expression in x and k into an `Fn` (name "custom").

    f evaluates the checked tree with numpy (nan/inf instead of errors); df is f'(x) by torch
    autograd. `smooth` is False if the expression uses any of NONSMOOTH_FUNCTIONS.
    Raises ValueError naming what was refused.
    """
    k = _check_k(k)
    tree = validate(source, k)
    used = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)}
    smooth = not (used & set(NONSMOOTH_FUNCTIONS))
    latex, _ = _latex(tree.body, k)
    return Fn("custom", k, _make_f(tree, k), _make_df(tree, k), latex, smooth=smooth)


def nonfinite_points(fn: Fn, xs: np.ndarray, derivative: bool = True) -> np.ndarray:
    """The points of xs where f(x) (or, if `derivative`, f'(x)) is nan or ±inf."""
    xs = np.asarray(xs, dtype=float)
    bad = ~np.isfinite(fn.f(xs))
    if derivative:
        bad |= ~np.isfinite(fn.df(xs))
    return xs[bad]


def check_finite(fn: Fn, xs: np.ndarray, derivative: bool = True) -> None:
    """Raise ValueError "f is not finite at x = …" if f (or f') is nan/inf anywhere on xs."""
    xs = np.asarray(xs, dtype=float)
    with np.errstate(all="ignore"):
        fx = fn.f(xs)
    bad_f = xs[~np.isfinite(fx)]
    if bad_f.size:
        raise ValueError(_where("f(x)", bad_f))
    if derivative:
        bad_df = xs[~np.isfinite(fn.df(xs))]
        if bad_df.size:
            raise ValueError(_where("f'(x)", bad_df))


def _where(what: str, bad: np.ndarray) -> str:
    n = bad.size - 1
    more = f" (and at {n} more point{'s' if n > 1 else ''})" if n else ""
    return f"{what} is not finite at x = {bad.flat[0]:.4g}{more}"
