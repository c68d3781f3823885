//! libFuzzer target: `reddwarf::fuzzing::quantity` must return, never panic, on any bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| reddwarf::fuzzing::quantity(data));
