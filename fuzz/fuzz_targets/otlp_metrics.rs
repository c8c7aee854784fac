//! Any bytes as an OTLP metrics request, in protobuf and in OTLP JSON: the decoder returns the
//! usage it found or an error, never panics.
#![no_main]

use freight_ingest::otlp::{Encoding, decode_metrics};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for encoding in [Encoding::Protobuf, Encoding::Json] {
        let _ = decode_metrics(data, encoding);
    }
});
