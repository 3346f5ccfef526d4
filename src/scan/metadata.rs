//! The two EXIF facts the pipeline uses — orientation and capture time — read so that missing
//! or garbled metadata never fails a load: it only gives `None`.

use std::io::Cursor;

use exif::{DateTime, Field, In, Tag, Value};

/// Orientation and capture time from a file's EXIF block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ExifFacts {
    /// The raw EXIF Orientation tag (1–8 when valid), if present.
    pub orientation: Option<u16>,
    /// `YYYY-MM-DDTHH:MM:SS` from DateTimeOriginal, else DateTime; no time zone is invented.
    pub captured_at: Option<String>,
}

/// Reads EXIF from a JPEG, PNG (eXIf chunk) or TIFF held in memory. Fields that cannot be
/// parsed are skipped; a file without EXIF gives [`ExifFacts::default`].
pub(crate) fn read_exif(bytes: &[u8]) -> ExifFacts {
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    let parsed = reader
        .read_from_container(&mut Cursor::new(bytes))
        .or_else(|error| error.distill_partial_result(|_ignored| ()));
    let Ok(exif) = parsed else {
        return ExifFacts::default();
    };
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|field| field.value.get_uint(0))
        .and_then(|value| u16::try_from(value).ok());
    let captured_at = [Tag::DateTimeOriginal, Tag::DateTime]
        .into_iter()
        .find_map(|tag| exif.get_field(tag, In::PRIMARY).and_then(iso_8601_from_field));
    ExifFacts {
        orientation,
        captured_at,
    }
}

/// An EXIF date-time field (`YYYY:MM:DD HH:MM:SS`) as ISO 8601 `YYYY-MM-DDTHH:MM:SS`, or
/// `None` if it is blank, malformed or out of range (e.g. the common `0000:00:00 00:00:00`).
fn iso_8601_from_field(field: &Field) -> Option<String> {
    let Value::Ascii(ref strings) = field.value else {
        return None;
    };
    let dt = DateTime::from_ascii(strings.first()?).ok()?;
    let in_range = (1..=9999).contains(&dt.year)
        && (1..=12).contains(&dt.month)
        && (1..=31).contains(&dt.day)
        && dt.hour <= 23
        && dt.minute <= 59
        && dt.second <= 60; // 60: leap second
    in_range.then(|| {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ascii_field(tag: Tag, text: &str) -> Field {
        Field {
            tag,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![text.as_bytes().to_vec()]),
        }
    }

    #[test]
    fn exif_date_time_becomes_iso_8601_without_time_zone() {
        let field = ascii_field(Tag::DateTimeOriginal, "2024:03:15 09:41:07");
        assert_eq!(iso_8601_from_field(&field).as_deref(), Some("2024-03-15T09:41:07"));
    }

    #[test]
    fn blank_zero_and_garbled_dates_give_none() {
        for text in [
            "    :  :     :  :  ",
            "0000:00:00 00:00:00",
            "2024:13:01 00:00:00",
            "yesterday",
            "",
        ] {
            assert_eq!(iso_8601_from_field(&ascii_field(Tag::DateTime, text)), None, "{text:?}");
        }
        let not_ascii = Field {
            tag: Tag::DateTime,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![2024]),
        };
        assert_eq!(iso_8601_from_field(&not_ascii), None);
    }

    #[test]
    fn no_or_garbled_exif_gives_nothing() {
        assert_eq!(read_exif(b""), ExifFacts::default());
        assert_eq!(read_exif(b"not an image at all"), ExifFacts::default());
        // A JPEG whose APP1 says "Exif" but holds garbage instead of a TIFF header.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x0C];
        jpeg.extend_from_slice(b"Exif\0\0garb");
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        assert_eq!(read_exif(&jpeg), ExifFacts::default());
    }
}
