//! libFuzzer target: `reddwarf::fuzzing::protobuf_body` must return, never panic, on any bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| reddwarf::fuzzing::protobuf_body(data));
