//! The wire formats of a TensorBoard event file, written by hand (no protobuf compiler at build
//! time): protobuf's encoding of the few messages lrsweep writes, and TFRecord's framing with
//! its masked CRC-32C.
//!
//! The messages, with their field numbers (TensorFlow's `event.proto` and `summary.proto`,
//! TensorBoard's `plugins/hparams/api.proto` and `plugin_data.proto`, google's `struct.proto`):
//!
//! ```text
//! Event              wall_time 1 (double)  step 2 (int64)  file_version 3  summary 5
//! Summary            value 1 (repeated Summary.Value)
//! Summary.Value      tag 1  simple_value 2 (float)  metadata 9
//! SummaryMetadata    plugin_data 1 (PluginData: plugin_name 1, content 2)
//! HParamsPluginData  version 1  experiment 2  session_start_info 3  session_end_info 4
//! Experiment         hparam_infos 4  metric_infos 5  time_created_secs 3
//! HParamInfo         name 1  type 4 (1 string, 3 float64)  domain_discrete 5 (ListValue)
//! MetricInfo         name 1 (MetricName: group 1, tag 2)  display_name 3
//! SessionStartInfo   hparams 1 (map<string, Value>)  start_time_secs 5
//! SessionEndInfo     status 1 (1 success, 3 running)  end_time_secs 2
//! Value              number_value 2 (double)  string_value 3;  ListValue: values 1
//! ```

/// A protobuf message being encoded: fields appended in any order.
#[derive(Debug, Default, Clone)]
pub struct Message(Vec<u8>);

/// Wire types.
const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LENGTH: u64 = 2;
const FIXED32: u64 = 5;

impl Message {
    pub fn new() -> Self {
        Self::default()
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u64) {
        self.varint((u64::from(field) << 3) | wire);
    }

    /// A `double` field.
    pub fn double(mut self, field: u32, v: f64) -> Self {
        self.key(field, FIXED64);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A `float` field.
    pub fn float(mut self, field: u32, v: f32) -> Self {
        self.key(field, FIXED32);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// An `int64`, `int32` or enum field (non-negative here).
    pub fn int(mut self, field: u32, v: u64) -> Self {
        self.key(field, VARINT);
        self.varint(v);
        self
    }

    /// A `bytes` or `string` field.
    pub fn bytes(mut self, field: u32, v: &[u8]) -> Self {
        self.key(field, LENGTH);
        self.varint(v.len() as u64);
        self.0.extend_from_slice(v);
        self
    }

    /// A `string` field.
    pub fn string(self, field: u32, v: &str) -> Self {
        self.bytes(field, v.as_bytes())
    }

    /// An embedded message.
    pub fn message(self, field: u32, m: &Message) -> Self {
        self.bytes(field, &m.0)
    }

    pub fn encoded(&self) -> &[u8] {
        &self.0
    }
}

/// The `int64 step` field (2) of an encoded `Event`, when it has one; `None` for bytes that are
/// not a well-formed message.
pub fn event_step(event: &[u8]) -> Option<u64> {
    let mut at = 0;
    let mut step = None;
    while at < event.len() {
        let key = read_varint(event, &mut at)?;
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            VARINT => {
                let v = read_varint(event, &mut at)?;
                if field == 2 {
                    step = Some(v);
                }
            }
            FIXED64 => at = at.checked_add(8)?,
            FIXED32 => at = at.checked_add(4)?,
            LENGTH => {
                let n = usize::try_from(read_varint(event, &mut at)?).ok()?;
                at = at.checked_add(n)?;
            }
            _ => return None,
        }
        if at > event.len() {
            return None;
        }
    }
    Some(step.unwrap_or(0))
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

/// TFRecord's masked CRC-32C (Castagnoli), as TensorFlow's `crc32c::Mask`.
fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One TFRecord: the length (u64, little-endian), its masked CRC, the data, the data's masked
/// CRC.
pub fn frame(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

/// The whole, intact records at the start of `bytes`, each as (its byte range in `bytes`, its
/// data): reading stops at the first record cut short or failing its checksums (what a crash
/// mid-append leaves).
pub fn records(bytes: &[u8]) -> Vec<(std::ops::Range<usize>, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while bytes.len() - at >= 12 {
        let len_bytes = &bytes[at..at + 8];
        let crc =
            u32::from_le_bytes([bytes[at + 8], bytes[at + 9], bytes[at + 10], bytes[at + 11]]);
        if crc != masked_crc(len_bytes) {
            break;
        }
        let mut len8 = [0u8; 8];
        len8.copy_from_slice(len_bytes);
        let Ok(len) = usize::try_from(u64::from_le_bytes(len8)) else {
            break;
        };
        let start = at + 12;
        let Some(end) = start.checked_add(len).filter(|e| e + 4 <= bytes.len()) else {
            break;
        };
        let data = &bytes[start..end];
        let crc = u32::from_le_bytes([bytes[end], bytes[end + 1], bytes[end + 2], bytes[end + 3]]);
        if crc != masked_crc(data) {
            break;
        }
        out.push((at..end + 4, data));
        at = end + 4;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_fields_encode_as_protobuf_does() {
        // Bytes of tensorboard's own event_pb2: Event(wall_time=1.5, step=300,
        // file_version="brain.Event:2").SerializeToString().
        let e = Message::new()
            .double(1, 1.5)
            .int(2, 300)
            .string(3, "brain.Event:2");
        assert_eq!(
            e.encoded(),
            b"\t\x00\x00\x00\x00\x00\x00\xf8?\x10\xac\x02\x1a\rbrain.Event:2"
        );
        assert_eq!(event_step(e.encoded()), Some(300));
    }

    #[test]
    fn the_masked_crc_is_tensorflows() {
        // A record holding b"foo" as tensorboard's RecordWriter writes it (the script:
        // `RecordWriter(buf).write(b"foo")`, tensorboard 2.21).
        let f = frame(b"foo");
        assert_eq!(
            f,
            b"\x03\x00\x00\x00\x00\x00\x00\x00\xb0\x99I\x0efooa\x8a\xbe\xfe"
        );
        let read = records(&f);
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].1, b"foo");
    }

    #[test]
    fn a_record_cut_short_or_corrupted_ends_the_reading() {
        let mut bytes = frame(b"one");
        bytes.extend(frame(b"two"));
        let whole = bytes.len();
        assert_eq!(records(&bytes).len(), 2);
        assert_eq!(records(&bytes[..whole - 1]).len(), 1);
        let mut bad = bytes.clone();
        bad[whole - 6] ^= 1;
        assert_eq!(records(&bad).len(), 1);
        assert!(records(&[0u8; 5]).is_empty());
    }
}
