// Validates Kubernetes manifests (JSON files) against the Kubernetes API schema of batch/v1 Job,
// as compiled to an AJV validator by kubernetes-models (installed by tests/k8s/install-schema).
//
//   node tests/k8s/validate-job.mjs --modules NODE_MODULES FILE...
//
// Prints one line per file ("ok FILE" or "invalid FILE") followed by its errors, and exits 1 when
// any file is invalid (2 on a usage error). The upstream schema lets an object carry fields it does
// not name (AJV's default), so a misspelt field would pass it; this check is strict on top: every
// key of the manifest must be one the schema's validator looks at. Keys are tracked with a Proxy
// on every object: the compiled validator reads each property its schema names (data.completions),
// and every key of a map (labels, resources.limits) as it iterates them, so a key nobody read is one
// the schema does not have.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

function usage(msg) {
    process.stderr.write(`validate-job: ${msg}\nHint: node tests/k8s/validate-job.mjs --modules NODE_MODULES FILE... ` +
        `(tests/k8s/install-schema prints NODE_MODULES)\n`);
    process.exit(2);
}

const args = process.argv.slice(2);
if (args[0] !== "--modules" || args.length < 3) usage("expected --modules NODE_MODULES and at least one file");
const modules = path.resolve(args[1]);
const files = args.slice(2);
const validatorPath = path.join(modules, "kubernetes-models/_schemas/IoK8sApiBatchV1Job.js");
if (!fs.existsSync(validatorPath)) usage(`no batch/v1 Job validator at ${validatorPath}`);
const { validate } = await import(pathToFileURL(validatorPath).href);
const version = JSON.parse(fs.readFileSync(path.join(modules, "kubernetes-models/package.json"), "utf8")).version;

const pointer = (base, key) => `${base}/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`;

// Wraps value (parsed JSON) in Proxies that record which keys get read; nodes lists every
// object with its JSON pointer, its keys and the set of keys read.
function track(value, where, nodes) {
    if (value === null || typeof value !== "object") return value;
    const read = new Set();
    let copy;
    if (Array.isArray(value)) {
        copy = value.map((v, i) => track(v, pointer(where, i), nodes));
    } else {
        nodes.push({ where, keys: Object.keys(value), read }); // parents before their children
        copy = {};
        for (const [k, v] of Object.entries(value)) copy[k] = track(v, pointer(where, k), nodes);
    }
    return new Proxy(copy, {
        get(target, key, receiver) {
            if (typeof key === "string") read.add(key);
            return Reflect.get(target, key, receiver);
        },
    });
}

// The keys no one read, outermost only (the fields under an unknown one are not listed again).
function unknownKeys(nodes) {
    const out = [];
    for (const n of nodes) {
        if (out.some((u) => n.where.startsWith(u + "/"))) continue;
        for (const k of n.keys) if (!n.read.has(k)) out.push(pointer(n.where, k));
    }
    return out;
}

let bad = 0;
for (const file of files) {
    let doc;
    try {
        doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        console.log(`invalid ${file}\n  not a JSON document: ${e.message}`);
        bad++;
        continue;
    }
    const nodes = [];
    const ok = validate(track(doc, "", nodes));
    const errors = (ok ? [] : validate.errors || []).map(
        (e) => `${e.instancePath || "/"}: ${e.keyword} ${JSON.stringify(e.params)}`);
    for (const u of unknownKeys(nodes)) errors.push(`${u}: not a field of batch/v1 Job's schema`);
    if (!ok && errors.length === 0) errors.push("/: rejected by the schema (no error given)");
    if (errors.length === 0) {
        console.log(`ok ${file} (batch/v1 Job, kubernetes-models ${version})`);
    } else {
        console.log(`invalid ${file}`);
        for (const e of errors) console.log(`  ${e}`);
        bad++;
    }
}
process.exit(bad ? 1 : 0);
