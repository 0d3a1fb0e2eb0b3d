#!/usr/bin/env python3
"""gen_bad.py - writes tests/corpus/bad/ (the bad documents and MANIFEST).

The files it writes are the fixtures; this script is how they were made and
how to change them: edit a case here, run it, and commit the output.
Run: python3 tests/corpus/gen_bad.py
Each case is (file, kind dir, errno(s), fragment, text); see the MANIFEST
format in tests/e2e/t_bad_corpus.sh.  Cases that must be generated at test
time (over 1 MiB, NUL bytes, invalid UTF-8) live in that test instead.
"""
import os
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad")
os.makedirs(OUT, exist_ok=True)
cases = []

def add(fname, kd, errno, frag, text):
    cases.append((fname, kd, errno, frag, text))

ENV = """metadata:
  name: {n}
spec:
  description: d
  data:
    API_KEY: {{value: s3cr3t-value, isSecret: true}}
    REGION: {{value: eu}}
"""
WF = """metadata:
  name: {n}
spec:
  document: {{dsl: 1.0.0, namespace: acme, name: {n}, version: 1.0.0}}
  tasks:
    - name: t1
      kind: RUN
      taskConfig:
        shell: {{command: "echo hi"}}
"""
INST = """metadata:
  name: {n}
spec:
  workflowId: goodwf
  envRefs: [goodenv]
"""
EXEC = """metadata:
  name: {n}
spec:
  workflowId: goodwf
"""
CTX = """metadata:
  name: {n}
spec:
  executionId: goodexec
  data:
    TOKEN: {{value: t0ken-abc, isSecret: true}}
"""
KD = {"env": "environments", "wf": "workflows", "inst": "workflowinstances",
      "exec": "workflowexecutions", "ctx": "executioncontexts"}
BASE = {"env": ENV, "wf": WF, "inst": INST, "exec": EXEC, "ctx": CTX}

def sub(kind, n, old, new, count=1):
    t = BASE[kind].format(n=n)
    assert old in t, (n, old)
    return t.replace(old, new, count)

# ---- malformed YAML: EBADMSG, "line" ----
Y = "EBADMSG"
add("y01-bad-indent.yaml", "environments", Y, "line",
    "metadata:\n  name: y01\n spec:\n  description: d\n")
add("y02-unclosed-dquote.yaml", "environments", Y, "line",
    'metadata: {name: "y02}\nspec: {description: d}\n')
add("y03-unclosed-squote.yaml", "workflows", Y, "line",
    "metadata:\n  name: 'y03\nspec:\n  document: {dsl: 1.0.0}\n")
add("y04-unclosed-flow-map.yaml", "environments", Y, "line",
    "metadata: {name: y04}\nspec: {description: d\n")
add("y05-unclosed-flow-seq.yaml", "workflows", Y, "line",
    "metadata: {name: y05}\nspec:\n  document: {dsl: 1.0.0, namespace: a, name: y05, version: 1.0.0}\n  tasks: [{name: t1, kind: RUN, taskConfig: {shell: {command: x}}}\n")
add("y06-tab-indent.yaml", "environments", Y, "line",
    "metadata:\n\tname: y06\nspec:\n\tdescription: d\n")
add("y07-stray-colon.yaml", "workflowinstances", Y, "line",
    "metadata:\n  name: y07: extra\nspec:\n  workflowId: goodwf\n")
add("y08-seq-in-map.yaml", "executioncontexts", Y, "line",
    "metadata:\n  name: y08\n  - item\nspec:\n  executionId: goodexec\n")
add("y09-mismatched-bracket.yaml", "environments", Y, "line",
    "metadata: {name: y09}\nspec: {description: d]\n")
add("y10-seq-then-map.yaml", "workflowexecutions", Y, "line",
    "- metadata\nspec: {workflowId: goodwf}\n")
add("y11-bad-escape.yaml", "environments", Y, "line",
    'metadata: {name: "y11\\q"}\nspec: {description: d}\n')
add("y12-undefined-alias.yaml", "environments", Y, "line",
    "metadata: {name: *nope}\nspec: {description: d}\n")
add("y13-custom-tag.yaml", "environments", Y, "line",
    "metadata: {name: !custom y13}\nspec: {description: d}\n")
add("y14-json-missing-comma.json", "environments", Y, "line",
    '{"metadata": {"name": "y14"} "spec": {"description": "d"}}\n')
add("y15-json-unclosed.json", "workflowexecutions", Y, "line",
    '{"metadata": {"name": "y15"}, "spec": {"workflowId": "goodwf"}\n')
add("y16-trailing-garbage.yaml", "environments", Y, "line",
    "metadata: {name: y16} extra\nspec: {description: d}\n")
add("y17-dedent-mismatch.yaml", "environments", Y, "line",
    "metadata:\n    name: y17\n  spec:\n    description: d\n")
add("y18-unclosed-dquote-task.yaml", "workflows", Y, "line",
    "metadata: {name: y18}\nspec:\n  document: {dsl: 1.0.0, namespace: a, name: y18, version: 1.0.0}\n  tasks:\n    - name: t1\n      kind: RUN\n      taskConfig:\n        shell: {command: \"echo hi}\n")
add("y19-at-sign.yaml", "environments", Y, "line",
    "metadata: {name: @y19}\nspec: {description: d}\n")
add("y20-backtick.yaml", "workflowinstances", Y, "line",
    "metadata: {name: `y20`}\nspec: {workflowId: goodwf}\n")
add("y21-yaml-2-directive.yaml", "environments", Y, "line",
    "%YAML 2.0\n---\nmetadata: {name: y21}\nspec: {description: d}\n")
add("y22-complex-key.yaml", "environments", Y, "line",
    "? [a, b]\n: c\nmetadata: {name: y22}\n")
add("y23-bad-unicode-escape.yaml", "executioncontexts", Y, "line",
    'metadata: {name: y23}\nspec: {executionId: "\\uZZZZ"}\n')
add("y24-block-scalar-bad-indent.yaml", "environments", Y, "line",
    "metadata: {name: y24}\nspec:\n  description: |\n  text here\n  data: {}\n")
add("y25-map-key-no-value-flow.yaml", "workflowexecutions", Y, "line",
    "metadata: {name: y25}\nspec: {workflowId: goodwf, : x}\n")
add("y26-unclosed-anchor-ref.yaml", "workflows", Y, "line",
    "metadata: {name: y26}\nspec: &a\n  document: *b\n")

# ---- duplicate keys: EBADMSG, "line" ----
add("d01-dup-top-metadata.yaml", "environments", Y, "line",
    "metadata: {name: d01}\nmetadata: {name: d01b}\nspec: {description: d}\n")
add("d02-dup-name.yaml", "environments", Y, "line",
    "metadata:\n  name: d02\n  name: d02b\nspec: {description: d}\n")
add("d03-dup-data-key.yaml", "environments", Y, "line",
    "metadata: {name: d03}\nspec:\n  data:\n    API_KEY: {value: a}\n    API_KEY: {value: b}\n")
add("d04-dup-in-flow.yaml", "workflows", Y, "line",
    sub("wf", "d04", "{dsl: 1.0.0,", "{dsl: 1.0.0, dsl: 1.0.0,"))
add("d05-dup-in-struct.yaml", "workflows", Y, "line",
    sub("wf", "d05", '        shell: {command: "echo hi"}\n', '        shell: {command: "echo hi"}\n        shell: {command: "echo no"}\n'))
add("d06-dup-quoted-plain.yaml", "workflowexecutions", Y, "line",
    "metadata: {name: d06}\nspec:\n  workflowId: goodwf\n  \"workflowId\": goodwf\n")
add("d07-dup-spec.yaml", "executioncontexts", Y, "line",
    CTX.format(n="d07") + "spec:\n  executionId: other\n")

# ---- both spellings of a field: EBADMSG, field path ----
add("s01-issecret-both.yaml", "environments", Y, "spec.data.API_KEY && isSecret",
    sub("env", "s01", "isSecret: true}", "isSecret: true, is_secret: true}"))
add("s02-workflowid-both.yaml", "workflowinstances", Y, "spec && workflowId",
    sub("inst", "s02", "  workflowId: goodwf\n", "  workflowId: goodwf\n  workflow_id: goodwf\n"))
add("s03-taskconfig-both.yaml", "workflows", Y, "spec.tasks[0] && taskConfig",
    sub("wf", "s03", "      taskConfig:\n", "      task_config: {shell: {command: x}}\n      taskConfig:\n"))
add("s04-ownerscope-both.yaml", "environments", Y, "metadata && ownerScope",
    sub("env", "s04", "  name: s04\n", "  name: s04\n  ownerScope: organization\n  owner_scope: organization\n"))
add("s05-apiversion-both.yaml", "environments", Y, "apiVersion",
    "apiVersion: agentic.stigmer.ai/v1\napi_version: agentic.stigmer.ai/v1\n" + ENV.format(n="s05"))
add("s06-runtimeenv-both.yaml", "workflowexecutions", Y, "spec && runtimeEnv",
    EXEC.format(n="s06") + "  runtimeEnv: {A: {value: x}}\n  runtime_env: {A: {value: x}}\n")
add("s07-executionid-both.yaml", "executioncontexts", Y, "spec && executionId",
    sub("ctx", "s07", "  executionId: goodexec\n", "  executionId: goodexec\n  execution_id: goodexec\n"))
add("s08-envrefs-both.yaml", "workflowinstances", Y, "spec && envRefs",
    sub("inst", "s08", "  envRefs: [goodenv]\n", "  envRefs: [goodenv]\n  env_refs: [goodenv]\n"))

# ---- wrong types: EBADMSG, field path ----
add("w01-name-map.yaml", "environments", Y, "metadata.name",
    "metadata:\n  name: {a: b}\nspec: {description: d}\n")
add("w02-description-list.yaml", "environments", Y, "spec.description",
    sub("env", "w02", "description: d", "description: [a, b]"))
add("w03-data-list.yaml", "environments", Y, "spec.data",
    "metadata: {name: w03}\nspec:\n  data: [API_KEY, REGION]\n")
add("w04-issecret-text.yaml", "environments", Y, "spec.data.API_KEY.isSecret",
    sub("env", "w04", "isSecret: true}", "isSecret: maybe}"))
add("w05-issecret-list.yaml", "executioncontexts", Y, "spec.data.TOKEN.isSecret",
    sub("ctx", "w05", "isSecret: true}", "isSecret: [true]}"))
add("w06-tasks-map.yaml", "workflows", Y, "spec.tasks",
    "metadata: {name: w06}\nspec:\n  document: {dsl: 1.0.0, namespace: a, name: w06, version: 1.0.0}\n  tasks: {name: t1, kind: RUN, taskConfig: {shell: {command: x}}}\n")
add("w07-document-string.yaml", "workflows", Y, "spec.document",
    "metadata: {name: w07}\nspec:\n  document: dsl-1.0.0\n  tasks: [{name: t1, kind: RUN, taskConfig: {shell: {command: x}}}]\n")
add("w08-task-name-list.yaml", "workflows", Y, "spec.tasks[0].name",
    sub("wf", "w08", "    - name: t1\n", "    - name: [t1]\n"))
add("w09-taskconfig-string.yaml", "workflows", Y, "spec.tasks[0].taskConfig",
    sub("wf", "w09", "      taskConfig:\n        shell: {command: \"echo hi\"}\n", "      taskConfig: echo hi\n"))
add("w10-version-map.yaml", "workflows", Y, "spec.document.version",
    sub("wf", "w10", "version: 1.0.0}", "version: {major: 1}}"))
add("w11-workflowid-list.yaml", "workflowinstances", Y, "spec.workflowId",
    sub("inst", "w11", "workflowId: goodwf", "workflowId: [goodwf]"))
add("w12-envrefs-map.yaml", "workflowinstances", Y, "spec.envRefs",
    sub("inst", "w12", "envRefs: [goodenv]", "envRefs: {env: goodenv}"))
add("w13-triggermetadata-list.yaml", "workflowexecutions", Y, "spec.triggerMetadata",
    EXEC.format(n="w13") + "  triggerMetadata: [a, b]\n")
add("w14-runtimeenv-string.yaml", "workflowexecutions", Y, "spec.runtimeEnv",
    EXEC.format(n="w14") + "  runtimeEnv: A=1\n")
add("w15-ctx-value-map.yaml", "executioncontexts", Y, "spec.data.TOKEN.value",
    sub("ctx", "w15", "value: t0ken-abc", "value: {nested: t0ken-abc}"))
add("w16-spec-string.yaml", "environments", Y, "spec",
    "metadata: {name: w16}\nspec: just text\n")
add("w17-metadata-list.yaml", "environments", Y, "metadata",
    "metadata: [w17]\nspec: {description: d}\n")
add("w18-labels-list.yaml", "environments", Y, "metadata.labels",
    sub("env", "w18", "  name: w18\n", "  name: w18\n  labels: [a, b]\n"))
add("w19-tags-map.yaml", "workflows", Y, "metadata.tags",
    sub("wf", "w19", "  name: w19\n", "  name: w19\n  tags: {a: b}\n"))
add("w20-dryrun-text.yaml", "workflowexecutions", Y, "spec.dryRun",
    EXEC.format(n="w20") + "  dryRun: maybe\n")
add("w26-callbacktoken-not-base64.yaml", "workflowexecutions", Y, "spec.callbackToken",
    EXEC.format(n="w26") + "  callbackToken: '!!! not base64 !!!'\n")
add("w27-ownerscope-float.yaml", "environments", Y, "ownerScope || owner_scope",
    sub("env", "w27", "  name: w27\n", "  name: w27\n  ownerScope: 2.5\n"))
add("w28-dryrun-number.yaml", "workflowexecutions", Y, "spec.dryRun",
    EXEC.format(n="w28") + "  dryRun: 2\n")
add("w21-description-bool-map.yaml", "workflowinstances", Y, "spec.description",
    INST.format(n="w21") + "  description: {text: x}\n")
add("w22-data-value-list.yaml", "environments", Y, "spec.data.REGION",
    sub("env", "w22", "REGION: {value: eu}", "REGION: [eu]"))
add("w23-envspec-string.yaml", "workflows", Y, "spec.envSpec",
    WF.format(n="w23") + "  envSpec: none\n")
add("w24-executionid-map.yaml", "executioncontexts", Y, "spec.executionId",
    sub("ctx", "w24", "executionId: goodexec", "executionId: {id: goodexec}"))
add("w25-document-list.yaml", "workflows", Y, "spec.document",
    sub("wf", "w25", "document: {dsl: 1.0.0, namespace: acme, name: w25, version: 1.0.0}", "document: [1.0.0, acme, w25, 1.0.0]"))

# ---- unknown fields at every level: EBADMSG, "unknown field" + name ----
U = lambda name: "unknown field && " + name
add("u01-top-level.yaml", "environments", Y, U("bogusTop"), ENV.format(n="u01") + "bogusTop: 1\n")
add("u02-metadata.yaml", "environments", Y, U("bogusMeta"),
    sub("env", "u02", "  name: u02\n", "  name: u02\n  bogusMeta: x\n"))
add("u03-env-spec.yaml", "environments", Y, U("bogusSpec"),
    sub("env", "u03", "  description: d\n", "  description: d\n  bogusSpec: x\n"))
add("u04-env-value.yaml", "environments", Y, "spec.data.REGION: unknown field",
    sub("env", "u04", "REGION: {value: eu}", "REGION: {value: eu, bogusValue: 1}"))
add("u05-wf-document.yaml", "workflows", Y, U("bogusDoc"),
    sub("wf", "u05", "version: 1.0.0}", "version: 1.0.0, bogusDoc: x}"))
add("u06-wf-task.yaml", "workflows", Y, U("bogusTask"),
    sub("wf", "u06", "      kind: RUN\n", "      kind: RUN\n      bogusTask: x\n"))
add("u07-inst-spec.yaml", "workflowinstances", Y, U("bogusInst"), INST.format(n="u07") + "  bogusInst: x\n")
add("u08-exec-spec.yaml", "workflowexecutions", Y, U("bogusExec"), EXEC.format(n="u08") + "  bogusExec: x\n")
add("u09-ctx-spec.yaml", "executioncontexts", Y, U("bogusCtx"), CTX.format(n="u09") + "  bogusCtx: x\n")
# Inside a message holding a secret the unknown key is not echoed (it may
# be the secret itself, as in "{s3cret, isSecret: true}").
add("u10-ctx-value.yaml", "executioncontexts", Y, "spec.data.TOKEN: unknown field",
    sub("ctx", "u10", "isSecret: true}", "isSecret: true, bogusVal: 1}"))
add("u11-wf-envspec.yaml", "workflows", Y, U("bogusEnvSpec"),
    WF.format(n="u11") + "  envSpec:\n    bogusEnvSpec: x\n")
add("u12-exec-runtimeenv-value.yaml", "workflowexecutions", Y, "spec.runtimeEnv.A: unknown field",
    EXEC.format(n="u12") + "  runtimeEnv:\n    A: {value: x, bogusRt: y}\n")
add("u13-kind-capitalised.yaml", "environments", Y, U("Kind"), "Kind: Environment\n" + ENV.format(n="u13"))
add("u14-wf-export.yaml", "workflows", Y, U("bogusExport"),
    sub("wf", "u14", "      kind: RUN\n", "      kind: RUN\n      export: {as: out, bogusExport: 1}\n"))
add("u15-wf-flow.yaml", "workflows", Y, U("bogusFlow"),
    sub("wf", "u15", "      kind: RUN\n", "      kind: RUN\n      flow: {then: end, bogusFlow: 1}\n"))
add("u16-wf-spec.yaml", "workflows", Y, U("bogusWfSpec"), WF.format(n="u16") + "  bogusWfSpec: 1\n")
add("u17-inst-envref-snake-typo.yaml", "workflowinstances", Y, U("envRef"),
    "metadata: {name: u17}\nspec:\n  workflowId: goodwf\n  envRef: [goodenv]\n")
add("u18-ctx-metadata.yaml", "executioncontexts", Y, U("bogusCtxMeta"),
    sub("ctx", "u18", "  name: u18\n", "  name: u18\n  bogusCtxMeta: 1\n"))

# ---- bad names: EBADMSG, metadata.name ----
add("n01-bangs.yaml", "environments", Y, "metadata.name", sub("env", "XX", "name: XX", "name: '!!!'"))
add("n02-300-chars.yaml", "environments", Y, "metadata.name", sub("env", "XX", "name: XX", "name: " + "n" * 300))
add("n03-dashes.yaml", "workflowinstances", Y, "metadata.name", sub("inst", "XX", "name: XX", "name: '---'"))
add("n04-non-ascii.yaml", "workflowexecutions", Y, "metadata.name", sub("exec", "XX", "name: XX", "name: 你好"))
add("n05-250-chars-workflow.yaml", "workflows", Y, "metadata.name", WF.format(n="w" * 250))
add("n06-only-symbols.yaml", "executioncontexts", Y, "metadata.name", sub("ctx", "XX", "name: XX", "name: '@#$%^&*()'"))

# ---- alias bombs: EFBIG or EBADMSG ----
AB = "EFBIG|EBADMSG"
laughs = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
for i in range(1, 10):
    p = "*a%d" % (i - 1)
    laughs += "a%d: &a%d [%s]\n" % (i, i, ",".join([p] * 10))
add("a01-billion-laughs.yaml", "workflows", AB, "alias || node",
    "metadata: {name: a01}\nspec:\n  document: {dsl: 1.0.0, namespace: a, name: a01, version: 1.0.0}\n  tasks:\n    - name: t1\n      kind: SET\n      taskConfig:\n        variables:\n" +
    "".join("          " + l for l in laughs.splitlines(True)))
add("a02-billion-laughs-top.yaml", "environments", AB, "alias || node",
    laughs + "metadata: {name: a02}\nspec: {description: d}\n")
big = "[" + ",".join(["x"] * 2500) + "]"
add("a03-quadratic.yaml", "workflows", AB, "alias || node",
    "metadata: {name: a03}\nspec:\n  document: {dsl: 1.0.0, namespace: a, name: a03, version: 1.0.0}\n  tasks:\n    - name: t1\n      kind: SET\n      taskConfig:\n        base: &b " + big + "\n        copies: [" + ",".join(["*b"] * 60) + "]\n")
add("a04-many-aliases.yaml", "workflows", AB, "alias || node",
    "metadata: {name: a04}\nspec:\n  document: {dsl: 1.0.0, namespace: a, name: a04, version: 1.0.0}\n  tasks:\n    - name: t1\n      kind: SET\n      taskConfig:\n        v: &v x\n        l: [" + ",".join(["*v"] * 200) + "]\n")

# ---- deep nesting: EFBIG or EBADMSG ----
add("p01-deep-flow-lists.yaml", "workflows", AB, "depth || nest",
    "metadata: {name: p01}\nspec:\n  document: {dsl: 1.0.0, namespace: a, name: p01, version: 1.0.0}\n  tasks:\n    - name: t1\n      kind: SET\n      taskConfig: {v: " + "[" * 150 + "x" + "]" * 150 + "}\n")
deep = "".join("  " * i + "k%d:\n" % i for i in range(120)) + "  " * 120 + "leaf: x\n"
add("p02-deep-block-maps.yaml", "environments", AB, "depth || nest",
    "metadata: {name: p02}\nspec:\n" + "".join("  " + l for l in deep.splitlines(True)))
add("p03-deep-json.json", "workflowexecutions", AB, "depth || nest",
    '{"metadata": {"name": "p03"}, "spec": {"workflowId": "goodwf", "triggerMetadata": ' + '{"a": ' * 200 + '"x"' + "}" * 200 + "}}\n")

# ---- wrong kind / apiVersion: EBADMSG ----
add("k01-kind-workflow-in-environments.yaml", "environments", Y, "kind", "kind: Workflow\n" + ENV.format(n="k01"))
add("k02-kind-bogus.yaml", "workflows", Y, "kind", "kind: Bogus\n" + WF.format(n="k02"))
add("k03-kind-context-in-executions.yaml", "workflowexecutions", Y, "kind", "kind: ExecutionContext\n" + EXEC.format(n="k03"))
add("k04-kind-agent.yaml", "workflowinstances", Y, "kind", "kind: AgentInstance\n" + INST.format(n="k04"))
add("v01-apiversion-v2.yaml", "environments", Y, "apiVersion", "apiVersion: agentic.stigmer.ai/v2\n" + ENV.format(n="v01"))
add("v02-apiversion-short.yaml", "workflows", Y, "apiVersion", "apiVersion: v1\n" + WF.format(n="v02"))
add("v03-apiversion-iam.yaml", "executioncontexts", Y, "apiVersion", "apiVersion: iam.stigmer.ai/v1\n" + CTX.format(n="v03"))
add("v04-apiversion-number.yaml", "workflowexecutions", Y, "apiVersion", "apiVersion: 1\n" + EXEC.format(n="v04"))

# ---- owner scope: EBADMSG ----
OS = "ownerScope || owner_scope"
add("o01-ctx-organization.yaml", "executioncontexts", Y, OS,
    sub("ctx", "o01", "  name: o01\n", "  name: o01\n  ownerScope: organization\n"))
add("o02-wf-identity-account.yaml", "workflows", Y, OS,
    sub("wf", "o02", "  name: o02\n", "  name: o02\n  ownerScope: identity_account\n"))
add("o03-env-platform.yaml", "environments", Y, OS,
    sub("env", "o03", "  name: o03\n", "  name: o03\n  ownerScope: platform\n"))
add("o04-exec-platform.yaml", "workflowexecutions", Y, OS,
    sub("exec", "o04", "  name: o04\n", "  name: o04\n  ownerScope: PLATFORM\n"))
add("o05-ctx-number.yaml", "executioncontexts", Y, OS,
    sub("ctx", "o05", "  name: o05\n", "  name: o05\n  ownerScope: 3\n"))
add("o06-env-platform-fullname.yaml", "environments", Y, OS,
    sub("env", "o06", "  name: o06\n", "  name: o06\n  ownerScope: API_RESOURCE_OWNER_SCOPE_PLATFORM\n"))
add("o07-env-unknown-scope.yaml", "environments", Y, OS,
    sub("env", "o07", "  name: o07\n", "  name: o07\n  ownerScope: galaxy\n"))
add("o08-wf-scope-out-of-range.yaml", "workflows", Y, OS,
    sub("wf", "o08", "  name: o08\n", "  name: o08\n  ownerScope: 7\n"))
add("o09-env-scope-negative.yaml", "environments", Y, OS,
    sub("env", "o09", "  name: o09\n", "  name: o09\n  ownerScope: -1\n"))
add("o10-exec-scope-list.yaml", "workflowexecutions", Y, OS,
    sub("exec", "o10", "  name: o10\n", "  name: o10\n  ownerScope: [organization]\n"))

# ---- task kinds: EBADMSG, spec.tasks[i].kind ----
TK = "spec.tasks[0].kind"
for fn, val in [("e01-kind-loop", "LOOP"), ("e02-kind-99", "99"), ("e03-kind-unspecified", "UNSPECIFIED"),
                ("e04-kind-zero", "0"), ("e05-kind-empty", "''"), ("e06-kind-grpc", "GRPC_CALL"),
                ("e07-kind-listen", "LISTEN"), ("e08-kind-agent-call", "AGENT_CALL"),
                ("e09-kind-call-activity", "CALL_ACTIVITY"), ("e10-kind-list", "[RUN]")]:
    add(fn + ".yaml", "workflows", Y, TK, sub("wf", fn[:3], "kind: RUN", "kind: " + val))
add("e11-second-task-kind.yaml", "workflows", Y, "spec.tasks[1].kind",
    WF.format(n="e11") + "    - name: t2\n      kind: TELEPORT\n      taskConfig: {}\n")

# ---- missing required fields: EBADMSG, field path ----
add("r01-no-document.yaml", "workflows", Y, "spec.document",
    "metadata: {name: r01}\nspec:\n  tasks: [{name: t1, kind: RUN, taskConfig: {shell: {command: x}}}]\n")
for fn, field in [("r02-no-dsl", "dsl"), ("r03-no-namespace", "namespace"), ("r04-no-doc-name", "name"), ("r05-no-version", "version")]:
    doc = {"dsl": "1.0.0", "namespace": "acme", "name": fn[:3], "version": "1.0.0"}
    del doc[field]
    flow = "{" + ", ".join("%s: %s" % kv for kv in doc.items()) + "}"
    add(fn + ".yaml", "workflows", Y, "spec.document." + field,
        sub("wf", fn[:3], "document: {dsl: 1.0.0, namespace: acme, name: %s, version: 1.0.0}" % fn[:3], "document: " + flow))
add("r06-tasks-empty.yaml", "workflows", Y, "spec.tasks",
    "metadata: {name: r06}\nspec:\n  document: {dsl: 1.0.0, namespace: a, name: r06, version: 1.0.0}\n  tasks: []\n")
add("r07-no-tasks.yaml", "workflows", Y, "spec.tasks",
    "metadata: {name: r07}\nspec:\n  document: {dsl: 1.0.0, namespace: a, name: r07, version: 1.0.0}\n")
add("r08-task-no-name.yaml", "workflows", Y, "spec.tasks[0].name", sub("wf", "r08", "    - name: t1\n      kind: RUN\n", "    - kind: RUN\n"))
add("r09-task-no-kind.yaml", "workflows", Y, "spec.tasks[0].kind", sub("wf", "r09", "      kind: RUN\n", ""))
add("r10-task-no-taskconfig.yaml", "workflows", Y, "spec.tasks[0].taskConfig",
    sub("wf", "r10", "      taskConfig:\n        shell: {command: \"echo hi\"}\n", ""))
add("r11-second-task-no-name.yaml", "workflows", Y, "spec.tasks[1].name",
    WF.format(n="r11") + "    - kind: RUN\n      taskConfig: {shell: {command: x}}\n")
add("r12-exec-neither-id.yaml", "workflowexecutions", Y, "workflowId",
    "metadata: {name: r12}\nspec:\n  triggerMessage: hi\n")
add("r13-exec-empty-spec.yaml", "workflowexecutions", Y, "workflowId", "metadata: {name: r13}\nspec: {}\n")
add("r14-exec-no-spec.yaml", "workflowexecutions", Y, "spec", "metadata: {name: r14}\n")
add("r15-exec-empty-ids.yaml", "workflowexecutions", Y, "workflowId",
    "metadata: {name: r15}\nspec: {workflowId: '', workflowInstanceId: ''}\n")
add("r16-ctx-no-executionid.yaml", "executioncontexts", Y, "spec.executionId",
    sub("ctx", "r16", "  executionId: goodexec\n", ""))
add("r17-ctx-empty-executionid.yaml", "executioncontexts", Y, "spec.executionId",
    sub("ctx", "r17", "executionId: goodexec", "executionId: ''"))
add("r18-inst-no-workflowid.yaml", "workflowinstances", Y, "spec.workflowId",
    "metadata: {name: r18}\nspec:\n  description: no workflow\n")
add("r19-ctx-empty-value.yaml", "executioncontexts", Y, "spec.data.TOKEN.value",
    sub("ctx", "r19", "value: t0ken-abc", "value: ''"))
add("r20-exec-runtimeenv-empty-value.yaml", "workflowexecutions", Y, "spec.runtimeEnv.A.value",
    EXEC.format(n="r20") + "  runtimeEnv:\n    A: {value: ''}\n")
add("r21-export-as-empty.yaml", "workflows", Y, "spec.tasks[0].export.as",
    sub("wf", "r21", "      kind: RUN\n", "      kind: RUN\n      export: {as: ''}\n"))
add("r22-dsl-empty.yaml", "workflows", Y, "spec.document.dsl", sub("wf", "r22", "dsl: 1.0.0", "dsl: ''"))
add("r23-ctx-no-spec.yaml", "executioncontexts", Y, "spec", "metadata: {name: r23}\n")
add("r24-task-name-empty.yaml", "workflows", Y, "spec.tasks[0].name", sub("wf", "r24", "- name: t1", "- name: ''"))

# ---- dsl must be 1.0.0 ----
for fn, val in [("l01-dsl-0.8.0", "0.8.0"), ("l02-dsl-1.0", "'1.0'"), ("l03-dsl-trailing-space", "'1.0.0 '"),
                ("l04-dsl-2.0.0", "2.0.0"), ("l05-dsl-v-prefix", "v1.0.0"), ("l06-dsl-number", "1")]:
    add(fn + ".yaml", "workflows", Y, "spec.document.dsl", sub("wf", fn[:3], "dsl: 1.0.0", "dsl: " + val))

# ---- duplicate task names ----
add("t01-dup-task-names.yaml", "workflows", Y, "spec.tasks",
    WF.format(n="t01") + "    - name: t1\n      kind: RUN\n      taskConfig: {shell: {command: x}}\n")
add("t02-dup-task-names-apart.yaml", "workflows", Y, "spec.tasks",
    WF.format(n="t02") + "    - name: t2\n      kind: RUN\n      taskConfig: {shell: {command: x}}\n    - name: t1\n      kind: RUN\n      taskConfig: {shell: {command: y}}\n")

# ---- invalid env var keys ----
for fn, key in [("x01-envkey-digit", "1BAD"), ("x02-envkey-dash", "BAD-KEY"), ("x03-envkey-space", "'BAD KEY'"),
                ("x04-envkey-empty", "''"), ("x05-envkey-equals", "'A=B'")]:
    add(fn + ".yaml", "environments", Y, "spec.data", sub("env", fn[:3], "REGION: {value: eu}", key + ": {value: eu}"))
add("x06-ctx-envkey-dot.yaml", "executioncontexts", Y, "spec.data", sub("ctx", "x06", "TOKEN:", "TOK.EN:"))
add("x07-runtimeenv-key-space.yaml", "workflowexecutions", Y, "spec.runtimeEnv",
    EXEC.format(n="x07") + "  runtimeEnv:\n    'X Y': {value: v}\n")
add("x08-envspec-key-digit.yaml", "workflows", Y, "spec.envSpec.data",
    WF.format(n="x08") + "  envSpec:\n    data:\n      9LIVES: {value: v}\n")

# ---- dangling references: ENOENT ----
N = "ENOENT"
add("f01-inst-missing-workflow.yaml", "workflowinstances", N, "nosuchwf",
    "metadata: {name: f01}\nspec:\n  workflowId: nosuchwf\n")
add("f02-exec-missing-workflow.yaml", "workflowexecutions", N, "nosuchwf2",
    "metadata: {name: f02}\nspec:\n  workflowId: nosuchwf2\n")
add("f03-inst-missing-env.yaml", "workflowinstances", N, "nosuchenv",
    "metadata: {name: f03}\nspec:\n  workflowId: goodwf\n  envRefs: [nosuchenv]\n")
add("f04-exec-missing-instance.yaml", "workflowexecutions", N, "nosuchinst",
    "metadata: {name: f04}\nspec:\n  workflowInstanceId: nosuchinst\n")
add("f05-inst-missing-workflow-id.yaml", "workflowinstances", N, "wfl-00000000000000000000000000",
    "metadata: {name: f05}\nspec:\n  workflowId: wfl-00000000000000000000000000\n")
add("f06-inst-second-env-missing.yaml", "workflowinstances", N, "nosuchenv3",
    "metadata: {name: f06}\nspec:\n  workflowId: goodwf\n  envRefs: [goodenv, nosuchenv3]\n")
add("f07-exec-missing-workflow-id.yaml", "workflowexecutions", N, "wfl-0000000000000000000000000z",
    "metadata: {name: f07}\nspec:\n  workflowId: wfl-0000000000000000000000000z\n")
add("f08-inst-envref-is-a-workflow.yaml", "workflowinstances", N, "goodwf",
    "metadata: {name: f08}\nspec:\n  workflowId: goodwf\n  envRefs: [goodwf]\n")

# ---- multiple documents / empty / not a map ----
add("m01-two-documents.yaml", "environments", Y, "document || line",
    ENV.format(n="m01") + "---\n" + ENV.format(n="m01b"))
add("m02-three-documents.yaml", "workflowexecutions", Y, "document || line",
    "---\n" + EXEC.format(n="m02") + "...\n---\n" + EXEC.format(n="m02b") + "---\n" + EXEC.format(n="m02c"))
add("z01-only-comments.yaml", "environments", Y, "empty", "# nothing here\n# at all\n")
add("z02-only-whitespace.yaml", "workflows", Y, "empty", "\n   \n\n")
add("z03-top-level-list.yaml", "environments", Y, "", "- metadata: {name: z03}\n- spec: {}\n")
add("z04-top-level-scalar.yaml", "workflowinstances", Y, "", "just a sentence\n")

# ---- write ----
for f in os.listdir(OUT):
    os.remove(os.path.join(OUT, f))
seen = set()
with open(os.path.join(OUT, "MANIFEST"), "w") as m:
    m.write("# <file> <kinddir> <ERRNO[|ERRNO]> <fragment>  -- see tests/e2e/t_bad_corpus.sh\n")
    m.write("# fragment: the rest of the line; 'a && b' needs both, 'a || b' either; empty: none.\n")
    for fname, kd, errno, frag, text in cases:
        assert fname not in seen, fname
        seen.add(fname)
        with open(os.path.join(OUT, fname), "w") as f:
            f.write(text)
        m.write(("%s %s %s %s" % (fname, kd, errno, frag)).rstrip() + "\n")
print(len(cases))
