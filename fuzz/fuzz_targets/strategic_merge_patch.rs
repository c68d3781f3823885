//! libFuzzer target: `reddwarf::fuzzing::strategic_merge_patch` must return, never panic, on any bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| reddwarf::fuzzing::strategic_merge_patch(data));
