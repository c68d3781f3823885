//! The fuzz targets on the stable toolchain, so CI runs them (cargo-fuzz needs nightly):
//! every entry point in `reddwarf::fuzzing` gets its corpus (`fuzz/corpus/<target>/`), a
//! few thousand mutations of it, and a few thousand generated inputs from a seeded
//! xorshift generator, and must not panic. The seed is fixed so a failure reproduces; set
//! `REDDWARF_FUZZ_SEED` to explore others and `REDDWARF_FUZZ_ITERATIONS` to run longer.

use std::path::Path;

use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use prost::Message;
use serde_json::{Map, Value, json};

/// xorshift64*: small, fast, and the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| std::fs::read(e.ok()?.path()).ok()).collect())
        .unwrap_or_default();
    seeds.sort();
    seeds
}

/// Bytes that matter to the parsers: operators, quotes, digits, suffixes, UTF-8.
const INTERESTING: &[&[u8]] = &[
    b"=",
    b"!=",
    b"==",
    b",",
    b"(",
    b")",
    b" in ",
    b" notin ",
    b"!",
    b"\"",
    b"\\",
    b";",
    b"\n",
    b"\0",
    b".",
    b"e",
    b"E",
    b"-",
    b"+",
    b"m",
    b"Ki",
    b"Mi",
    b"Gi",
    b"Ei",
    b"n",
    b"u",
    b"999999999999999999999",
    b"0",
    b"\xff",
    "é".as_bytes(),
    b"$patch",
    b"$retainKeys",
    b"$setElementOrder/containers",
    b"$deleteFromPrimitiveList/finalizers",
    b"null",
    b"[]",
    b"{}",
    b"k8s\0",
];

/// One random edit of `input`: flip, insert, delete, duplicate, splice an interesting
/// token, or truncate.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    let at = rng.below(input.len() + 1);
    match rng.below(6) {
        0 if !input.is_empty() => {
            let i = rng.below(input.len());
            input[i] ^= 1 << rng.below(8);
        }
        1 => input.insert(at, rng.next() as u8),
        2 if !input.is_empty() => {
            let end = (at + 1 + rng.below(8)).min(input.len());
            input.drain(at.min(end)..end);
        }
        3 if !input.is_empty() => {
            let start = rng.below(input.len());
            let end = (start + 1 + rng.below(16)).min(input.len());
            let chunk = input[start..end].to_vec();
            input.splice(at..at, chunk);
        }
        4 => {
            let token = rng.pick(INTERESTING).to_vec();
            input.splice(at..at, token);
        }
        _ => input.truncate(at),
    }
}

const KEYS: &[&str] = &[
    "metadata",
    "spec",
    "containers",
    "initContainers",
    "name",
    "image",
    "ports",
    "containerPort",
    "protocol",
    "env",
    "value",
    "volumes",
    "volumeMounts",
    "mountPath",
    "finalizers",
    "labels",
    "tolerations",
    "key",
    "$patch",
    "$retainKeys",
    "$setElementOrder/containers",
    "$setElementOrder/volumes",
    "$deleteFromPrimitiveList/finalizers",
];

/// A random JSON value shaped like a pod patch: its keys, the patch directives, and
/// values of every type in the wrong places.
fn arbitrary_json(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 4 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.pick(&["c", "d", "delete", "replace", "merge", "x", ""])),
        2 => json!(rng.below(100)),
        3 => json!(rng.below(2) == 0),
        4 | 5 => {
            let mut map = Map::new();
            for _ in 0..rng.below(4) {
                map.insert(rng.pick(KEYS).to_string(), arbitrary_json(rng, depth - 1));
            }
            Value::Object(map)
        }
        _ => Value::Array((0..rng.below(4)).map(|_| arbitrary_json(rng, depth - 1)).collect()),
    }
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(12) {
        if rng.below(3) == 0 {
            let token: &[u8] = rng.pick::<&[u8]>(INTERESTING);
            out.extend_from_slice(token);
        } else {
            out.push(*rng.pick(b"abcxyz019 .=-/"));
        }
    }
    out
}

/// Valid protobuf bodies (a ConfigMap and a Pod, as kubectl sends them) to mutate from.
fn protobuf_seeds() -> Vec<Vec<u8>> {
    let envelope = |api_version: &str, kind: &str, raw: Vec<u8>| {
        let unknown = Unknown {
            type_meta: Some(TypeMeta { api_version: Some(api_version.into()), kind: Some(kind.into()) }),
            raw: Some(raw),
            content_encoding: Some(String::new()),
            content_type: Some(String::new()),
        };
        [b"k8s\0".to_vec(), unknown.encode_to_vec()].concat()
    };
    let meta = meta::ObjectMeta { name: Some("x".into()), namespace: Some("default".into()), ..Default::default() };
    let config_map = core::ConfigMap {
        metadata: Some(meta.clone()),
        data: [("a".to_string(), "b".to_string())].into(),
        ..Default::default()
    };
    let pod = core::Pod {
        metadata: Some(meta),
        spec: Some(core::PodSpec {
            containers: vec![core::Container { name: Some("c".into()), image: Some("i".into()), ..Default::default() }],
            ..Default::default()
        }),
        ..Default::default()
    };
    vec![envelope("v1", "ConfigMap", config_map.encode_to_vec()), envelope("v1", "Pod", pod.encode_to_vec())]
}

fn iterations() -> usize {
    std::env::var("REDDWARF_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000)
}

fn seed() -> u64 {
    std::env::var("REDDWARF_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed_2026_0007).max(1)
}

/// Runs `target` on every seed, then on mutations and generated inputs; on a panic,
/// reports the input (hex) that caused it.
fn run(name: &str, target: fn(&[u8]), seeds: Vec<Vec<u8>>, generate: impl Fn(&mut Rng) -> Vec<u8>) {
    assert!(!seeds.is_empty(), "{name} has a corpus");
    let mut rng = Rng(seed() ^ name.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))));
    let mut inputs: Vec<Vec<u8>> = seeds.clone();
    for i in 0..iterations() {
        let input = if i % 2 == 0 {
            let mut input = rng.pick(&seeds).clone();
            for _ in 0..=rng.below(4) {
                mutate(&mut rng, &mut input);
            }
            input
        } else {
            generate(&mut rng)
        };
        inputs.push(input);
    }
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let failure = inputs.iter().find_map(|input| {
        let payload = std::panic::catch_unwind(|| target(input)).err()?;
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Some((input.clone(), message))
    });
    std::panic::set_hook(default_hook);
    if let Some((input, message)) = failure {
        panic!("{name} panicked on {:?} (hex {}): {message}", String::from_utf8_lossy(&input), hex::encode(&input));
    }
}

#[test]
fn parsers_return_errors_and_never_panic() {
    use reddwarf::fuzzing as f;
    run("quantity", f::quantity, corpus("quantity"), random_bytes);
    run("selectors", f::selectors, corpus("selectors"), random_bytes);
    run("zonecfg_quote", f::zonecfg_quote, corpus("zonecfg_quote"), random_bytes);
    run("strategic_merge_patch", f::strategic_merge_patch, corpus("strategic_merge_patch"), |rng| {
        let patch = arbitrary_json(rng, 5);
        let value = if rng.below(4) == 0 { json!([arbitrary_json(rng, 4), patch]) } else { patch };
        value.to_string().into_bytes()
    });
    if std::env::var_os("REDDWARF_WRITE_CORPUS").is_some() {
        // Refreshes the checked-in protobuf seeds that cargo-fuzz starts from.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/protobuf_body");
        for (name, body) in ["configmap", "pod"].iter().zip(protobuf_seeds()) {
            std::fs::write(dir.join(name), body).unwrap();
        }
    }
    let protobuf = [corpus("protobuf_body"), protobuf_seeds()].concat();
    run("protobuf_body", f::protobuf_body, protobuf.clone(), move |rng| {
        // A valid envelope around mangled inner bytes, or random bytes after the magic.
        let mut body = rng.pick(&protobuf).clone();
        let cut = 4 + rng.below(body.len() - 4);
        for _ in 0..rng.below(8) {
            let i = cut + rng.below(body.len() - cut);
            if i < body.len() {
                body[i] = rng.next() as u8;
            }
        }
        body
    });
}

#[test]
#[should_panic(expected = "boom panicked on")]
fn a_panicking_target_is_caught_and_its_input_reported() {
    run("boom", |data| assert!(!data.contains(&b'!')), vec![b"a=b".to_vec()], random_bytes);
}

#[test]
fn the_fuzz_targets_cover_every_entry_point() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    for (name, _) in reddwarf::fuzzing::TARGETS {
        let source = std::fs::read_to_string(dir.join(format!("{name}.rs"))).unwrap_or_default();
        assert!(source.contains(&format!("reddwarf::fuzzing::{name}(data)")), "fuzz/fuzz_targets/{name}.rs");
    }
}
