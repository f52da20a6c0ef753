//! The safetensors format (Hugging Face's): an 8-byte little-endian header length, a JSON header
//! naming each tensor's dtype, shape and byte range (and `__metadata__`, strings only), padded
//! with spaces to 8 bytes, then the tensors' bytes, contiguous, in the header's order.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// One tensor to write: its name, shape and f32 values (row-major).
pub struct Named {
    /// The name a `state_dict` gives it (`0.weight`).
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub values: Vec<f32>,
}

/// The bytes of a safetensors file holding `tensors` (F32, in order) and `metadata`.
pub fn encode(tensors: &[Named], metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let mut header = Map::new();
    header.insert("__metadata__".into(), json!(metadata));
    let mut offset = 0usize;
    for t in tensors {
        let end = offset + t.values.len() * 4;
        header.insert(
            t.name.clone(),
            json!({"dtype": "F32", "shape": t.shape, "data_offsets": [offset, end]}),
        );
        offset = end;
    }
    let mut text = Value::Object(header).to_string().into_bytes();
    // The data starts 8-byte aligned, as the reference writer pads it.
    while !(8 + text.len()).is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + offset);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    for t in tensors {
        for v in &t.values {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout the format's specification gives: length, JSON header, aligned data.
    #[test]
    fn a_file_is_its_header_then_the_tensors_bytes() {
        let tensors = [
            Named {
                name: "0.weight".into(),
                shape: vec![2, 3],
                values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            },
            Named {
                name: "0.bias".into(),
                shape: vec![2],
                values: vec![-1.0, 0.5],
            },
        ];
        let meta = BTreeMap::from([("format".to_string(), "pt".to_string())]);
        let bytes = encode(&tensors, &meta);
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!((8 + n) % 8, 0, "the data is 8-byte aligned");
        let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        assert_eq!(header["__metadata__"]["format"], "pt");
        assert_eq!(header["0.weight"]["shape"], json!([2, 3]));
        assert_eq!(header["0.weight"]["data_offsets"], json!([0, 24]));
        assert_eq!(header["0.bias"]["data_offsets"], json!([24, 32]));
        let data = &bytes[8 + n..];
        assert_eq!(data.len(), 32);
        assert_eq!(f32::from_le_bytes(data[24..28].try_into().unwrap()), -1.0);
        assert_eq!(f32::from_le_bytes(data[20..24].try_into().unwrap()), 6.0);
    }
}
