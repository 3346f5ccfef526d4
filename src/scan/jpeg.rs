//! JPEG checks the decoder does not make: that the file reaches its end-of-image marker, and
//! how many colour components its frame has.
//!
//! `image` 0.25 decodes JPEG with zune-jpeg in non-strict mode, which fills the missing part
//! of a truncated file with grey and reports success; it also reports a CMYK JPEG as plain
//! RGB. Walking the marker segments (a few microseconds, no pixel work) answers both.

/// What the marker walk found in a JPEG that reaches its end-of-image marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JpegStructure {
    /// Component count of the first frame header (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK), if any.
    pub components: Option<u8>,
}

/// Why the marker walk rejected a JPEG.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JpegStructureError {
    /// The data ends before the end-of-image marker.
    #[error("truncated JPEG (the data ends after {len_bytes} bytes, inside {inside}, without an end-of-image marker)")]
    Truncated {
        /// File length in bytes.
        len_bytes: usize,
        /// Which part of the file the data ended in.
        inside: &'static str,
    },
    /// A marker segment declares a length shorter than its own length field.
    #[error("corrupt JPEG (marker 0xFF{marker:02X} at byte {offset} declares a segment length of {length})")]
    BadSegmentLength {
        /// The marker byte after 0xFF.
        marker: u8,
        /// Byte offset of the marker.
        offset: usize,
        /// The declared length.
        length: u16,
    },
}

/// End of image.
const EOI: u8 = 0xD9;
/// Start of scan: its header is followed by entropy-coded data.
const SOS: u8 = 0xDA;

/// Walks the marker segments of a JPEG whose first two bytes are the SOI marker.
pub(crate) fn inspect_jpeg(bytes: &[u8]) -> Result<JpegStructure, JpegStructureError> {
    let truncated = |inside| JpegStructureError::Truncated {
        len_bytes: bytes.len(),
        inside,
    };
    let mut components = None;
    let mut pos = 2; // after SOI
    loop {
        // Skip anything up to the next 0xFF and the fill bytes (0xFF runs) before a marker code.
        while pos < bytes.len() && bytes[pos] != 0xFF {
            pos += 1;
        }
        while pos < bytes.len() && bytes[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            return Err(truncated("the marker segments"));
        };
        let marker_offset = pos - 1;
        pos += 1;
        if marker == EOI {
            return Ok(JpegStructure { components });
        }
        if is_standalone(marker) {
            continue;
        }
        let Some(length_bytes) = bytes.get(pos..pos + 2) else {
            return Err(truncated("a segment header"));
        };
        let length = u16::from_be_bytes([length_bytes[0], length_bytes[1]]);
        if length < 2 {
            return Err(JpegStructureError::BadSegmentLength {
                marker,
                offset: marker_offset,
                length,
            });
        }
        let segment_end = pos + usize::from(length);
        if segment_end > bytes.len() {
            return Err(truncated("a marker segment"));
        }
        // Frame header: length(2) precision(1) height(2) width(2) component count(1).
        if is_start_of_frame(marker) && components.is_none() {
            components = bytes.get(pos + 7).copied().filter(|_| pos + 7 < segment_end);
        }
        pos = segment_end;
        if marker == SOS {
            pos = end_of_entropy_coded_data(bytes, pos);
            if pos >= bytes.len() {
                return Err(truncated("the compressed image data"));
            }
        }
    }
}

/// Markers without a length field: TEM, RST0–RST7 and SOI.
fn is_standalone(marker: u8) -> bool {
    matches!(marker, 0x01 | 0xD0..=0xD8)
}

/// SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
fn is_start_of_frame(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// Index of the 0xFF that starts the first real marker at or after `pos` in entropy-coded
/// data (where 0xFF00 is an escaped data byte and RSTn markers are part of the data), or the
/// data length if there is none.
fn end_of_entropy_coded_data(bytes: &[u8], mut pos: usize) -> usize {
    while pos + 1 < bytes.len() {
        if bytes[pos] == 0xFF {
            match bytes[pos + 1] {
                0x00 | 0xD0..=0xD7 => pos += 2,
                0xFF => pos += 1,
                _ => return pos,
            }
        } else {
            pos += 1;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, a frame header with `components` components, a scan with data containing an
    /// escaped 0xFF and a restart marker, then EOI.
    fn minimal_jpeg(components: u8) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        b.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x08, 8, 0, 64, 0, 64, components]);
        b.extend_from_slice(&[0xFF, SOS, 0x00, 0x02]);
        b.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56]);
        b.extend_from_slice(&[0xFF, EOI]);
        b
    }

    #[test]
    fn complete_stream_reports_its_component_count() {
        assert_eq!(
            inspect_jpeg(&minimal_jpeg(4)),
            Ok(JpegStructure { components: Some(4) })
        );
        assert_eq!(
            inspect_jpeg(&minimal_jpeg(1)),
            Ok(JpegStructure { components: Some(1) })
        );
    }

    #[test]
    fn escaped_ff_and_restart_markers_do_not_end_the_scan() {
        let mut b = minimal_jpeg(3);
        // Drop EOI: the walk must not mistake FF00 or FFD3 in the data for the end.
        b.truncate(b.len() - 2);
        let err = inspect_jpeg(&b).unwrap_err();
        assert!(
            matches!(
                err,
                JpegStructureError::Truncated {
                    inside: "the compressed image data",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn every_truncation_point_is_detected() {
        let b = minimal_jpeg(3);
        for len in 2..b.len() {
            assert!(
                inspect_jpeg(&b[..len]).is_err(),
                "truncated to {len} bytes was accepted"
            );
        }
    }

    #[test]
    fn segment_length_below_two_is_corrupt() {
        let mut b = minimal_jpeg(3);
        b[4] = 0;
        b[5] = 1;
        assert!(matches!(
            inspect_jpeg(&b),
            Err(JpegStructureError::BadSegmentLength {
                marker: 0xC0,
                length: 1,
                ..
            })
        ));
    }

    #[test]
    fn frame_marker_ranges() {
        assert!(is_start_of_frame(0xC0) && is_start_of_frame(0xC2) && is_start_of_frame(0xCF));
        assert!(!is_start_of_frame(0xC4) && !is_start_of_frame(0xC8) && !is_start_of_frame(0xCC));
    }
}
