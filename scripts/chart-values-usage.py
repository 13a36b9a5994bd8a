#!/usr/bin/env python3
"""List every `.Values.` path a Helm chart's templates use, and how each use renders it.

Usage: scripts/chart-values-usage.py [--where] [CHART_DIR]

CHART_DIR defaults to $LP_REAL_CHART, else ../shared/reference/deliveryhero-locust/<version>/chart,
relative to the repository root, <version> being the one charts-lock/locust.yaml pins. Prints one line per path: `PATH<TAB>RENDERINGS` (sorted, the
renderings comma-separated); `--where` adds a third column with every `template:line` of a use.

It reads the Go template actions themselves (a lexer and a pipeline parser for the subset of
text/template and Sprig that charts use), follows `with`/`range` rebinding of the dot and of
variables, and inlines `include`/`template` of the chart's `define`s at each call, so a helper's
uses count where it is called. An action or function it does not know stops it with an error
naming the template and line: a chart bump that brings new syntax is read, not guessed.

Path notation (the same as `src/values/chart_keys.rs`):
  a.b          the value at a.b
  a.b.<key>    each key of the map a.b   (`range $key, $value := .Values.a.b`)
  a.b.*        each value of the map a.b
  a.b[]        each item of the list a.b (`range .Values.a.b`, `range $x := .Values.a.b`)
  a.b[].c      field c of each item
Renderings:
  bare     written as its text (also through printf/default/trunc/trimSuffix/toString)
  quote    through `quote`/`squote`: a double-quoted string whatever it holds
  toYaml   through `toYaml`/`toJson`: YAML of the value
  tpl      rendered as a template by `tpl` (after `toYaml` for extraObjects)
  b64enc   base64 of the value (then quoted)
  set      copied into another value with `set`
  test     read only: a condition, a comparison, a file glob; never written
  notes    written into NOTES.txt only (shown by helm, never applied)
  unused   used only inside a `define` no template calls
A path with uses in manifests lists only those; `notes` and `unused` appear alone.
"""

import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pinned_version():
    """The chart version charts-lock/locust.yaml pins (its top-level `version:` line)."""
    with open(os.path.join(REPO, "charts-lock", "locust.yaml"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("version:"):
                return line.split(":", 1)[1].strip().strip("'\"")
    sys.exit("charts-lock/locust.yaml has no version line")


DEFAULT_CHART = os.path.join(
    REPO, "..", "shared", "reference", "deliveryhero-locust", pinned_version(), "chart"
)

# Functions whose output is (built from) the text of their last argument; other arguments are
# read only (lengths, suffixes, indents).
TEXT_OF_LAST = {
    "trunc", "trimSuffix", "trimPrefix", "trim", "toString", "replace", "indent", "nindent",
    "lower", "upper", "title", "required", "fail",
}
# Functions whose output holds the text of every argument.
TEXT_OF_ALL = {"default", "printf", "print", "println", "coalesce", "cat"}
# Functions that escape or transform their (last) argument, and the rendering they give.
ESCAPING = {"quote": "quote", "squote": "quote", "toYaml": "toYaml", "toJson": "toYaml",
            "b64enc": "b64enc"}
# Functions whose result does not carry their arguments' text (booleans, hashes, lengths).
READ_ONLY = {
    "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "semverCompare", "hasKey",
    "contains", "empty", "sha256sum", "len", "hasPrefix", "hasSuffix",
}


class ChartError(Exception):
    pass


class Flow:
    """A value path flowing through a pipeline, with the transforms applied to it so far."""

    def __init__(self, path, transforms=()):
        self.path = path
        self.transforms = tuple(transforms)

    def then(self, t):
        return Flow(self.path, self.transforms + (t,))

    def rendering(self):
        t = self.transforms
        if "tpl" in t:
            return "tpl"
        for x in t:
            if x in ("b64enc", "toYaml", "quote"):
                return x
        return "bare"


ROOT = object()  # the dot at the top of a template: `.Values`, `.Release`, …


# ---- lexing -------------------------------------------------------------------------------

def actions(text):
    """Yields (kind, content, line) for the text: kind `text` or `action` (comments dropped)."""
    i, line = 0, 1
    while True:
        j = text.find("{{", i)
        if j < 0:
            yield ("text", text[i:], line)
            return
        yield ("text", text[i:j], line)
        line += text.count("\n", i, j)
        k = j + 2
        if text.startswith("-", k) and text[k + 1:k + 2] in " \t\n\r":
            k += 1
        body_start = k
        while k < len(text) and text[k] in " \t\r\n":
            k += 1
        if text.startswith("/*", k):
            end = text.find("*/", k)
            if end < 0:
                raise ChartError(f"line {line}: unclosed comment")
            close = text.find("}}", end)
            line += text.count("\n", j, close + 2)
            i = close + 2
            continue
        k = body_start
        while True:
            if k >= len(text):
                raise ChartError(f"line {line}: unclosed action")
            c = text[k]
            if c in "\"'":
                k += 1
                while text[k] != c:
                    k += 2 if text[k] == "\\" else 1
                k += 1
            elif c == "`":
                k = text.index("`", k + 1) + 1
            elif text.startswith("}}", k):
                break
            else:
                k += 1
        body = text[body_start:k]
        if body.endswith("-") and body[-2:-1] in (" ", "\t", "\n", "\r"):
            body = body[:-1]
        yield ("action", body.strip(), line)
        line += text.count("\n", j, k + 2)
        i = k + 2


TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`|'(?:[^'\\]|\\.)*')
      | (?P<punct>:=|=|\||\(|\)|,)
      | (?P<num>-?[0-9][0-9.]*)
      | (?P<field>\$[A-Za-z0-9_]*(?:\.[A-Za-z_]\w*)*|(?:\.[A-Za-z_]\w*)+|\.|[A-Za-z_]\w*)
    )""",
    re.X,
)


def tokens(body, where):
    out, i = [], 0
    while i < len(body):
        if body[i].isspace():
            i += 1
            continue
        m = TOKEN.match(body, i)
        if not m or m.end() == i:
            raise ChartError(f"{where}: cannot read `{body[i:]}`")
        for kind in ("str", "punct", "num", "field"):
            if m.group(kind):
                out.append((kind, m.group(kind)))
                break
        i = m.end()
    return out


# ---- parsing pipelines -------------------------------------------------------------------

def parse_pipeline(toks, pos, where):
    """A pipeline `[$a[, $b] :=] cmd (| cmd)*` from toks[pos:]; returns (decls, cmds, pos)."""
    decls = []
    look = pos
    while look < len(toks) and toks[look][0] == "field" and toks[look][1].startswith("$"):
        if look + 1 < len(toks) and toks[look + 1][1] == ",":
            look += 2
            continue
        if look + 1 < len(toks) and toks[look + 1][1] in (":=", "="):
            decls = [t[1] for t in toks[pos:look + 1] if t[1] != ","]
            pos = look + 2
        break
    cmds, cmd = [], []
    while pos < len(toks) and toks[pos][1] != ")":
        kind, value = toks[pos]
        if value == "|":
            cmds.append(cmd)
            cmd = []
            pos += 1
        elif value == "(":
            inner_decls, inner, pos = parse_pipeline(toks, pos + 1, where)
            if pos >= len(toks) or toks[pos][1] != ")":
                raise ChartError(f"{where}: unbalanced parenthesis")
            pos += 1
            # `(…).Field`: a field of the result (e.g. `.AsConfig` of a file glob).
            if pos < len(toks) and toks[pos][0] == "field" and toks[pos][1].startswith("."):
                pos += 1
                cmd.append(("method-result", inner))
            else:
                cmd.append(("pipe", inner))
        else:
            cmd.append((kind, value))
            pos += 1
    cmds.append(cmd)
    return decls, cmds, pos


# ---- evaluation --------------------------------------------------------------------------

class Reader:
    def __init__(self, chart):
        self.chart = chart
        self.uses = {}  # path -> {rendering: set(where)}
        self.defines = {}  # name -> (file, [(kind, content, line)])
        self.called = set()

    def record(self, path, rendering, where):
        self.uses.setdefault(path, {}).setdefault(rendering, set()).add(where)

    def write(self, flows, ctx):
        for f in flows:
            self.record(f.path, ctx.overrides or f.rendering(), ctx.where)

    def test(self, flows, ctx):
        for f in flows:
            self.record(f.path, ctx.overrides or "test", ctx.where)

    # An operand: a field, a variable, a literal or a parenthesized pipeline.
    def operand(self, op, ctx):
        kind, value = op
        if kind in ("str", "num"):
            return []
        if kind == "pipe":
            return self.pipeline([], value, ctx)
        if kind == "method-result":
            self.test(self.pipeline([], value, ctx), ctx)
            return []
        if kind != "field":
            raise ChartError(f"{ctx.where}: unexpected `{value}`")
        if value in ("true", "false", "nil"):
            return []
        if value.startswith("$"):
            name, _, rest = value.partition(".")
            if name == "$":
                base = ROOT
            elif name in ctx.vars:
                base = ctx.vars[name]
            else:
                raise ChartError(f"{ctx.where}: unknown variable {name}")
            return self.field(base, rest.split(".") if rest else [], ctx)
        if value == ".":
            return self.field(ctx.dot, [], ctx)
        if value.startswith("."):
            return self.field(ctx.dot, value[1:].split("."), ctx)
        raise ChartError(f"{ctx.where}: `{value}` is a function, not a value")

    def field(self, base, parts, ctx):
        if base is ROOT:
            if not parts:
                return []
            if parts[0] != "Values":
                return []  # .Release, .Chart, .Capabilities, .Template, .Files
            parts = parts[1:]
            return [Flow(".".join(parts))] if parts else []
        if base is None:
            return []
        flows = []
        for f in base:
            path = f.path
            for p in parts:
                path = f"{path}.{p}" if path else p
            flows.append(Flow(path, f.transforms))
        return flows

    def command(self, cmd, piped, ctx):
        if not cmd:
            raise ChartError(f"{ctx.where}: empty command")
        head_kind, head = cmd[0]
        args = cmd[1:]
        if head_kind == "field" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", head) and head not in (
            "true", "false", "nil"
        ):
            return self.function(head, args, piped, ctx)
        if args or piped is not None:
            # A method call (`.Files.Glob …`): its arguments are read, not written.
            for a in args:
                self.test(self.operand(a, ctx), ctx)
            if piped is not None:
                self.test(piped, ctx)
            return []
        return self.operand(cmd[0], ctx)

    def function(self, name, args, piped, ctx):
        values = [self.operand(a, ctx) for a in args] if name not in ("include", "template") else None
        if name in ("include", "template"):
            if not args or args[0][0] != "str":
                # `include (print $.Template.BasePath "/x.yaml") .`: another template file,
                # read where it is itself rendered; here it is only hashed.
                for a in args:
                    if a[0] == "pipe":
                        self.test(self.pipeline([], a[1], ctx), ctx)
                return []
            define = args[0][1].strip('"`')
            dot = self.operand(args[1], ctx) if len(args) > 1 else []
            if len(args) > 1 and args[1] == ("field", "$") or args[1:] == [("field", ".")] and ctx.dot is ROOT:
                dot = ROOT
            self.call(define, dot, ctx)
            return []
        all_args = values + ([piped] if piped is not None else [])
        if name in ESCAPING:
            for v in all_args[:-1]:
                self.test(v, ctx)
            return [f.then(ESCAPING[name]) for f in (all_args[-1] if all_args else [])]
        if name == "tpl":
            if len(all_args) != 2:
                raise ChartError(f"{ctx.where}: tpl takes a template and a context")
            return [f.then("tpl") for f in all_args[0]]
        if name in TEXT_OF_LAST:
            for v in all_args[:-1]:
                self.test(v, ctx)
            return list(all_args[-1]) if all_args else []
        if name in TEXT_OF_ALL:
            return [f for v in all_args for f in v]
        if name in READ_ONLY:
            for v in all_args:
                self.test(v, ctx)
            return []
        if name == "set":
            for v in all_args[2:]:
                for f in v:
                    self.record(f.path, ctx.overrides or "set", ctx.where)
            return []
        raise ChartError(f"{ctx.where}: unknown function `{name}`")

    def pipeline(self, decls, cmds, ctx):
        flows = None
        for cmd in cmds:
            flows = self.command(cmd, flows, ctx)
        flows = flows or []
        if decls:
            for d in decls:
                ctx.vars[d] = flows
            return []
        return flows

    def call(self, name, dot, ctx):
        if name not in self.defines:
            raise ChartError(f"{ctx.where}: no define {name!r}")
        self.called.add(name)
        file, items = self.defines[name]
        inner = Context(dot, {"$": ROOT}, ctx.where, ctx.overrides)
        self.run(items, inner, file, call_site=ctx.where)

    # Blocks: a list of (kind, content, line) items, read in order with a stack of scopes.
    def run(self, items, ctx, file, call_site=None):
        stack = []  # (keyword, saved dot, saved vars)
        for kind, body, line in items:
            if kind == "text":
                continue
            where = call_site or f"{file}:{line}"
            ctx.where = where
            toks = tokens(body, where)
            if not toks:
                continue
            word = toks[0][1]
            if word == "end":
                _, ctx.dot, ctx.vars = stack.pop()
                continue
            if word == "else":
                keyword, saved_dot, saved_vars = stack[-1]
                ctx.dot, ctx.vars = saved_dot, dict(saved_vars)
                if len(toks) > 1:  # else if / else with
                    sub = toks[1][1]
                    decls, cmds, _ = parse_pipeline(toks, 2, where)
                    flows = self.pipeline(decls, cmds, ctx)
                    self.test(flows, ctx)
                    if sub == "with" and len(flows) == 1:
                        ctx.dot = [Flow(flows[0].path)]
                continue
            if word in ("if", "with", "range"):
                stack.append((word, ctx.dot, dict(ctx.vars)))
                decls, cmds, _ = parse_pipeline(toks, 1, where)
                if word == "range":
                    flows = self.pipeline([], cmds, ctx)
                    self.range_over(flows, decls, ctx)
                    continue
                flows = self.pipeline(decls, cmds, ctx)
                self.test(flows, ctx)
                if word == "with":
                    ctx.dot = [Flow(f.path) for f in flows] if flows else None
                    for d in decls:
                        ctx.vars[d] = ctx.dot
                continue
            if word == "define":
                raise ChartError(f"{where}: nested define")
            if word == "template":
                self.function("template", toks_to_ops(toks[1:], where), None, ctx)
                continue
            if word in ("block", "break", "continue"):
                raise ChartError(f"{where}: `{word}` is not read by this script")
            decls, cmds, _ = parse_pipeline(toks, 0, where)
            flows = self.pipeline(decls, cmds, ctx)
            self.write(flows, ctx)
        if stack:
            raise ChartError(f"{file}: unclosed `{stack[-1][0]}`")

    def range_over(self, flows, decls, ctx):
        paths = [f.path for f in flows]
        if len(decls) == 2:
            ctx.vars[decls[0]] = [Flow(f"{p}.<key>") for p in paths]
            ctx.vars[decls[1]] = [Flow(f"{p}.*") for p in paths]
            ctx.dot = ctx.vars[decls[1]]
        else:
            items = [Flow(f"{p}[]") for p in paths]
            for d in decls:
                ctx.vars[d] = items
            ctx.dot = items


class Context:
    def __init__(self, dot, vars_, where, overrides=None):
        self.dot = dot
        self.vars = vars_
        self.where = where
        self.overrides = overrides  # `notes`/`unused`: every use in this template is that


def toks_to_ops(toks, where):
    _, cmds, _ = parse_pipeline(toks, 0, where)
    if len(cmds) != 1:
        raise ChartError(f"{where}: a piped template call")
    return cmds[0]


def split_defines(file, text):
    """The template's items outside defines, and its defines as name -> items."""
    outside, defines, current, depth = [], {}, None, 0
    for item in actions(text):
        kind, body, line = item
        first = body.split(None, 1)[0] if kind == "action" and body else ""
        if current is None:
            if first == "define":
                name = re.match(r'define\s+"([^"]+)"', body).group(1)
                current, depth = (name, []), 0
            else:
                outside.append(item)
            continue
        if first in ("if", "with", "range", "block"):
            depth += 1
        elif first == "end":
            if depth == 0:
                defines[current[0]] = (file, current[1])
                current = None
                continue
            depth -= 1
        current[1].append(item)
    if current is not None:
        raise ChartError(f"{file}: unclosed define {current[0]!r}")
    return outside, defines


def read_chart(chart):
    reader = Reader(chart)
    templates = os.path.join(chart, "templates")
    files = sorted(f for f in os.listdir(templates) if not f.startswith("."))
    bodies = {}
    for f in files:
        with open(os.path.join(templates, f), encoding="utf-8") as fh:
            outside, defines = split_defines(f, fh.read())
        reader.defines.update(defines)
        bodies[f] = outside
    for f in files:
        overrides = "notes" if f == "NOTES.txt" else None
        reader.run(bodies[f], Context(ROOT, {"$": ROOT}, f, overrides), f)
    for name, (file, items) in sorted(reader.defines.items()):
        if name not in reader.called:
            reader.run(items, Context(ROOT, {"$": ROOT}, file, "unused"), file)
    return reader.uses


def main(argv):
    where = "--where" in argv
    args = [a for a in argv if a != "--where"]
    chart = args[0] if args else os.environ.get("LP_REAL_CHART") or DEFAULT_CHART
    if not os.path.isdir(os.path.join(chart, "templates")):
        print(f"chart-values-usage: {chart}: no templates/ folder (pass CHART_DIR or set LP_REAL_CHART)",
              file=sys.stderr)
        return 2
    try:
        uses = read_chart(chart)
    except ChartError as e:
        print(f"chart-values-usage: {e}", file=sys.stderr)
        return 1
    for path in sorted(uses):
        found = set(uses[path])
        # A path also used in a manifest is described by those uses alone.
        if found - {"notes", "unused"}:
            found -= {"notes", "unused"}
        elif "notes" in found:
            found = {"notes"}
        renderings = ",".join(sorted(found))
        line = f"{path}\t{renderings}"
        if where:
            line += "\t" + " ".join(sorted({w for ws in uses[path].values() for w in ws}))
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
