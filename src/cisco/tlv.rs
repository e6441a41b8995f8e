//! The TLV layer shared by headers and records: 1-byte tag, 2-byte big-endian length, value;
//! in headers also the one-byte `0x0D` padding and container tags whose length counts the
//! nested elements that follow. Zero-copy: elements borrow the file.

use super::error::{FormatError, Scope};
use super::model::Element;
use nom::IResult;
use nom::bytes::complete::take;
use nom::number::complete::{be_u8, be_u16};
use nom::sequence::tuple;

/// Header padding byte (tag 13): one byte, no length.
pub const PADDING: u8 = 0x0D;

/// Header container tags: their length counts the nested elements that follow.
pub const CONTAINER_TAGS: [u8; 6] = [3, 7, 9, 16, 17, 21];

/// Size of a tag + length.
pub const TL_SIZE: usize = 3;

/// nom: tag and length.
fn tag_length(input: &[u8]) -> IResult<&[u8], (u8, u16)> {
    tuple((be_u8, be_u16))(input)
}

/// nom: a value of `len` bytes.
fn value(len: u16) -> impl Fn(&[u8]) -> IResult<&[u8], &[u8]> {
    move |input| take(len)(input)
}

/// Reads the tag and 16-bit value of a fixed `tag 00 02 value` element at `offset` (used for
/// VERSION, HEADER_LENGTH and RECORDLENGTH, which must come first).
pub(crate) fn fixed_u16_element<'a>(
    file: &'a [u8],
    offset: usize,
    expected_tag: u8,
    element: &'static str,
    expected: &'static str,
    record: Option<usize>,
) -> Result<(Element<'a>, u16), FormatError> {
    let input = file.get(offset..).unwrap_or_default();
    let truncated = || FormatError::Truncated {
        element,
        needed: 5,
        available: input.len(),
        offset,
        record,
    };
    let (rest, (tag, length)) = tag_length(input).map_err(|_| truncated())?;
    if tag != expected_tag {
        return Err(FormatError::Unexpected {
            expected,
            found: format!("tag {tag} (length {length})"),
            offset,
            record,
        });
    }
    if length != 2 {
        return Err(FormatError::BadLength {
            element,
            tag,
            length,
            expected: 2,
            offset,
            record,
        });
    }
    let (_, v) = value(2)(rest).map_err(|_| truncated())?;
    let number = match v {
        [hi, lo] => u16::from_be_bytes([*hi, *lo]),
        _ => return Err(truncated()),
    };
    Ok((
        Element {
            tag,
            offset,
            value: v,
            container: false,
            container_len: 0,
        },
        number,
    ))
}

/// Walks the elements of `file[start..end)`: a header (with padding and containers) or a
/// record body (plain TLVs). Every element must end inside the scope and inside its
/// enclosing container.
#[derive(Debug)]
pub(crate) struct Walker<'a> {
    file: &'a [u8],
    pos: usize,
    start: usize,
    end: usize,
    scope: Scope,
    record: Option<usize>,
    /// (tag, start, end) of open containers, innermost last. Header only.
    open: Vec<(u8, usize, usize)>,
}

impl<'a> Walker<'a> {
    /// Walks a header's elements from `start` to HEADER_LENGTH.
    pub(crate) fn header(file: &'a [u8], start: usize, end: usize) -> Self {
        Walker {
            file,
            pos: start,
            start: 0,
            end,
            scope: Scope::Header,
            record: None,
            open: Vec::new(),
        }
    }

    /// Walks the body of record `number` (`start` = after RECORDLENGTH, `record_start`
    /// its first byte).
    pub(crate) fn record(
        file: &'a [u8],
        record_start: usize,
        start: usize,
        end: usize,
        number: usize,
    ) -> Self {
        Walker {
            file,
            pos: start,
            start: record_start,
            end,
            scope: Scope::Record(number),
            record: Some(number),
            open: Vec::new(),
        }
    }

    fn in_header(&self) -> bool {
        self.scope == Scope::Header
    }

    /// The next element, `Ok(None)` at the end of the scope.
    pub(crate) fn next_element(&mut self) -> Result<Option<Element<'a>>, FormatError> {
        if self.pos >= self.end {
            return Ok(None);
        }
        let offset = self.pos;
        // Close the containers that ended exactly here.
        while self.open.last().is_some_and(|&(_, _, end)| end <= offset) {
            self.open.pop();
        }
        let input = self.file.get(offset..self.end).unwrap_or_default();
        if self.in_header() && input.first() == Some(&PADDING) {
            self.pos += 1;
            return Ok(Some(Element {
                tag: PADDING,
                offset,
                value: &[],
                container: false,
                container_len: 0,
            }));
        }
        let (rest, (tag, length)) = tag_length(input).map_err(|_| FormatError::Truncated {
            element: "element tag and length",
            needed: TL_SIZE,
            available: input.len(),
            offset,
            record: self.record,
        })?;
        let container = self.in_header() && CONTAINER_TAGS.contains(&tag);
        let element_end = offset + TL_SIZE + usize::from(length);
        // The innermost open container, else the scope, bounds the element.
        let (limit_scope, limit_start, limit) = match self.open.last() {
            Some(&(ctag, cstart, cend)) => (Scope::Container(ctag), cstart, cend),
            None => (self.scope, self.start, self.end),
        };
        if element_end > limit {
            return Err(FormatError::Overrun {
                tag,
                length,
                scope: limit_scope,
                scope_start: limit_start,
                scope_end: limit,
                offset,
                record: self.record,
            });
        }
        if container {
            self.open.push((tag, offset, element_end));
            self.pos = offset + TL_SIZE;
            return Ok(Some(Element {
                tag,
                offset,
                value: &[],
                container: true,
                container_len: length,
            }));
        }
        let (_, v) = value(length)(rest).map_err(|_| FormatError::Truncated {
            element: "element value",
            needed: usize::from(length),
            available: rest.len(),
            offset,
            record: self.record,
        })?;
        self.pos = element_end;
        Ok(Some(Element {
            tag,
            offset,
            value: v,
            container: false,
            container_len: 0,
        }))
    }
}

/// The value with one trailing NUL removed (names are NUL-terminated).
pub fn strip_nul(value: &[u8]) -> &[u8] {
    value.strip_suffix(&[0]).unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_elements(bytes: &[u8]) -> Result<Vec<Element<'_>>, FormatError> {
        let mut walker = Walker::header(bytes, 0, bytes.len());
        let mut out = Vec::new();
        while let Some(e) = walker.next_element()? {
            out.push(e);
        }
        Ok(out)
    }

    #[test]
    fn containers_padding_and_values() {
        let bytes = [3, 0, 4, 4, 0, 1, 0x41, 0x0D, 0x0D];
        let elements = header_elements(&bytes).expect("parses");
        assert_eq!(elements.len(), 4);
        assert!(elements[0].container);
        assert_eq!(elements[0].container_len, 4);
        assert_eq!(elements[1].tag, 4);
        assert_eq!(elements[1].offset, 3);
        assert_eq!(elements[1].value, b"A");
        assert_eq!(elements[3].tag, PADDING);
    }

    #[test]
    fn element_crossing_its_container_is_rejected() {
        // Container of 3 bytes, but the nested element needs 4.
        let bytes = [3, 0, 3, 4, 0, 1, 0x41];
        let err = header_elements(&bytes).expect_err("overrun");
        assert!(matches!(
            err,
            FormatError::Overrun {
                scope: Scope::Container(3),
                offset: 3,
                ..
            }
        ));
    }

    #[test]
    fn value_past_scope_and_short_tl_are_errors() {
        assert!(matches!(
            header_elements(&[5, 0, 9, 1]),
            Err(FormatError::Overrun { offset: 0, .. })
        ));
        assert!(matches!(
            header_elements(&[5, 0]),
            Err(FormatError::Truncated { offset: 0, .. })
        ));
    }

    #[test]
    fn record_bodies_have_no_padding_or_containers() {
        let bytes = [1, 0, 2, 0, 13, 3, 0, 1, 0x41, 0x0D, 0, 0];
        let mut walker = Walker::record(&bytes, 0, 5, bytes.len(), 1);
        let first = walker.next_element().expect("ok").expect("some");
        assert_eq!(
            (first.tag, first.container, first.value),
            (3, false, &b"A"[..])
        );
        let second = walker.next_element().expect("ok").expect("some");
        assert_eq!((second.tag, second.value), (13, &b""[..]));
        assert!(walker.next_element().expect("ok").is_none());
    }

    #[test]
    fn strip_nul_removes_one() {
        assert_eq!(strip_nul(b"ab\0\0"), b"ab\0");
        assert_eq!(strip_nul(b"ab"), b"ab");
    }
}
