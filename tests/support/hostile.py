"""Text a hostile or careless visitor might type into a text field."""

HOSTILE_TEXT = [
    "",
    " ",
    "x",
    "sin(3*x) + x**2",
    "__import__('os').system('true')",
    "x.__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "[x for x in ()]",
    "lambda: 1",
    "open('/etc/passwd')",
    "eval('1')",
    "9**9**9",
    "x**1000000",
    "1e400",
    "exp(exp(exp(x)))",
    "log(x) / 0",
    "(" * 200 + "x" + ")" * 200,
    "x" * 5000,
    "1/x",
    "sqrt(-1 - x**2)",
    "nan",
    "inf",
    "-1",
    "0",
    "1e308",
    "\x00",
    "💥",
    "k*x; import os",
]

# Values a crafted URL might carry: each must reach the page as text, never as a link, an HTML
# element, a formula or a Streamlit icon.
HOSTILE_URL_VALUES = [
    "[Session expired: sign in again](https://evil.example/phish)",
    "<b>bold</b><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    r"$\href{https://evil.example}{click}$",
    "https://evil.example/www.evil.example",
    ":material/warning: :red[alert] **bold**",
    "x" * 5000,
    "nan",
    "inf",
    "",
]
