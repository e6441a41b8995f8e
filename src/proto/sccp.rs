//! SCCP ("Skinny"), the registration protocol of older Cisco phones on TCP 2000: enough of it
//! to learn which phone registered (its device name `SEP<MAC>`, its model) and to which CUCM,
//! and whether CUCM accepted it.
//!
//! Framing: every message is a 4-byte little-endian length, a 4-byte header version
//! ("reserved", 0 on old phones, a protocol version on newer ones) and a 4-byte little-endian
//! message id; the length counts the message id and the body. Only three messages are read:
//! `StationRegister` (0x0001, phone → CUCM), `RegisterAck` (0x0081) and `RegisterReject`
//! (0x009D, CUCM → phone). Everything is bounds-checked: bad bytes give an [`SccpError`]
//! with the byte span they concern, never a panic.

use crate::evidence::{Endpoint, RegistrationOutcome, SccpRegistration, Seen};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::ops::Range;

/// TCP port CUCM listens on for SCCP in clear text.
pub const SCCP_PORT: u16 = 2000;

/// Bytes before a message's id: length and header version.
const HEADER: usize = 8;

/// Largest message accepted (length field): real ones are under 2 KiB (the longest carry
/// display text or XML); a larger length means the bytes are not SCCP or framing was lost.
pub const MAX_MESSAGE: usize = 16 * 1024;

/// Bytes buffered per direction while waiting for the rest of a message.
const MAX_BUFFER: usize = HEADER + MAX_MESSAGE;

/// `StationRegister`: phone → CUCM.
pub const STATION_REGISTER: u32 = 0x0001;
/// `RegisterAck`: CUCM accepted the registration.
pub const REGISTER_ACK: u32 = 0x0081;
/// `RegisterReject`: CUCM refused it, with a text.
pub const REGISTER_REJECT: u32 = 0x009D;

/// What is wrong with bytes read as SCCP, with the byte span (in the buffer parsed) it
/// concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SccpError {
    /// The length field is below 4: not even a message id fits.
    LengthTooShort {
        /// The length field's value.
        length: u32,
        /// Where the length field is.
        span: Range<usize>,
    },
    /// The length field is over [`MAX_MESSAGE`].
    LengthTooLong {
        /// The length field's value.
        length: u32,
        /// Where the length field is.
        span: Range<usize>,
    },
    /// A message's body is shorter than its fixed fields.
    BodyTooShort {
        /// The message id.
        id: u32,
        /// Bytes the fixed fields need.
        need: usize,
        /// Bytes the body has.
        have: usize,
        /// Where the body is.
        span: Range<usize>,
    },
    /// The device name is not printable ASCII.
    BadDeviceName {
        /// Where the name field is.
        span: Range<usize>,
    },
}

impl fmt::Display for SccpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SccpError::LengthTooShort { length, span } => write!(
                f,
                "SCCP length {length} at bytes {}-{} is below the 4 bytes of a message id",
                span.start, span.end
            ),
            SccpError::LengthTooLong { length, span } => write!(
                f,
                "SCCP length {length} at bytes {}-{} is over {MAX_MESSAGE}: not SCCP, or framing lost",
                span.start, span.end
            ),
            SccpError::BodyTooShort {
                id,
                need,
                have,
                span,
            } => write!(
                f,
                "SCCP message 0x{id:04X} at bytes {}-{} has {have} body bytes, its fixed fields need {need}",
                span.start, span.end
            ),
            SccpError::BadDeviceName { span } => write!(
                f,
                "SCCP device name at bytes {}-{} is not printable ASCII",
                span.start, span.end
            ),
        }
    }
}

impl std::error::Error for SccpError {}

/// One framed message, borrowed from the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Header version ("reserved"): 0 on old phones, the protocol version on newer ones.
    pub version: u32,
    /// Message id.
    pub id: u32,
    /// The body after the message id.
    pub body: &'a [u8],
    /// Where the whole message (header included) is in the buffer.
    pub span: Range<usize>,
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The message starting at `at` in `buf`: `Ok(None)` when its bytes are not all there yet.
pub fn frame(buf: &[u8], at: usize) -> Result<Option<Frame<'_>>, SccpError> {
    let Some(length) = u32_le(buf, at) else {
        return Ok(None);
    };
    let span = at..at + 4;
    if length < 4 {
        return Err(SccpError::LengthTooShort { length, span });
    }
    let len = length as usize;
    if len > MAX_MESSAGE {
        return Err(SccpError::LengthTooLong { length, span });
    }
    let end = at + HEADER + len;
    let (Some(version), Some(id), Some(_)) = (
        u32_le(buf, at + 4),
        u32_le(buf, at + HEADER),
        buf.get(..end),
    ) else {
        return Ok(None);
    };
    Ok(Some(Frame {
        version,
        id,
        body: buf.get(at + HEADER + 4..end).unwrap_or_default(),
        span: at..end,
    }))
}

/// True when `payload` starts like an SCCP message: a plausible length, a known header
/// version, a message id below 0x1000. Used to pick up a connection whose SYN was missed.
pub fn looks_like_sccp(payload: &[u8]) -> bool {
    let (Some(length), Some(version), Some(id)) =
        (u32_le(payload, 0), u32_le(payload, 4), u32_le(payload, 8))
    else {
        return false;
    };
    (4..=MAX_MESSAGE as u32).contains(&length) && version <= 0x30 && id < 0x1000
}

/// The fields of a `StationRegister` this tool uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationRegister {
    /// Device name (`SEP0011223344AA` for a phone), NUL padding removed.
    pub device_name: String,
    /// Station user id (the `reserved` word of the station id).
    pub user_id: u32,
    /// Station instance.
    pub instance: u32,
    /// The address the phone says it has.
    pub ip: Option<Ipv4Addr>,
    /// Device type (the model's number), when the body carries it.
    pub device_type: Option<u32>,
    /// Most media streams the phone handles, when the body carries it.
    pub max_streams: Option<u32>,
}

/// Reads a `StationRegister` body (the bytes after the message id; `base` is where the body
/// starts in the buffer, for the spans of errors).
pub fn station_register(body: &[u8], base: usize) -> Result<StationRegister, SccpError> {
    // Name (16), user id, instance, IP: 28 bytes at least; device type and max streams follow.
    const NEED: usize = 28;
    if body.len() < NEED {
        return Err(SccpError::BodyTooShort {
            id: STATION_REGISTER,
            need: NEED,
            have: body.len(),
            span: base..base + body.len(),
        });
    }
    let name_field = body.get(..16).unwrap_or_default();
    let name_len = name_field.iter().position(|&b| b == 0).unwrap_or(16);
    let name = name_field.get(..name_len).unwrap_or_default();
    if !name.iter().all(|b| b.is_ascii_graphic()) {
        return Err(SccpError::BadDeviceName {
            span: base..base + 16,
        });
    }
    let ip = body
        .get(24..28)
        .map(|b| Ipv4Addr::new(b[0], b[1], b[2], b[3]));
    Ok(StationRegister {
        device_name: String::from_utf8_lossy(name).into_owned(),
        user_id: u32_le(body, 16).unwrap_or(0),
        instance: u32_le(body, 20).unwrap_or(0),
        ip: ip.filter(|a| !a.is_unspecified()),
        device_type: u32_le(body, 28),
        max_streams: u32_le(body, 32),
    })
}

/// The text of a `RegisterReject` (33 bytes, NUL-terminated), printable ASCII only.
pub fn register_reject_text(body: &[u8]) -> String {
    let field = body.get(..body.len().min(33)).unwrap_or_default();
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field
        .get(..end)
        .unwrap_or_default()
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect::<String>()
        .trim()
        .to_string()
}

/// The model of an SCCP device type, as Cisco names it (`7970`), for the types in
/// Wireshark's Skinny dissector tables and Cisco's device-type lists; None for the others.
pub fn model_of(device_type: u32) -> Option<&'static str> {
    Some(match device_type {
        6 => "7910",
        7 => "7960",
        8 => "7940",
        9 => "7935",
        12 => "ATA 186",
        115 => "7941",
        119 => "7971",
        302 => "7985",
        307 => "7911",
        308 => "7961G-GE",
        309 => "7941G-GE",
        348 => "7931",
        358 => "Unified Personal Communicator",
        365 => "7921",
        369 => "7906",
        404 => "7962",
        431 => "7937",
        434 => "7942",
        435 => "7945",
        436 => "7965",
        437 => "7975",
        446 => "3911",
        484 => "7925",
        493 => "9971",
        495 => "6921",
        496 => "6941",
        497 => "6961",
        537 => "9951",
        540 => "8961",
        20000 => "7905",
        30002 => "7920",
        30006 => "7970",
        30007 => "7912",
        30008 => "7902",
        30016 => "IP Communicator",
        30018 => "7961",
        30019 => "7936",
        30027 => "analog phone (gateway port)",
        30028 => "ISDN BRI phone (gateway port)",
        30032 => "SCCP gateway virtual phone",
        _ => return None,
    })
}

/// The model as shown: the name from [`model_of`], else `device type N`.
pub fn model_name(device_type: u32) -> String {
    model_of(device_type).map_or_else(|| format!("device type {device_type}"), str::to_string)
}

/// One SCCP connection's registration, read from both streams.
#[derive(Debug, Default)]
pub struct SccpStream {
    /// Unparsed bytes per direction (0 client, 1 server).
    bufs: [Vec<u8>; 2],
    /// A direction whose framing was lost (a gap, a bad length): no more read from it.
    lost: [bool; 2],
    /// The registration seen, waiting for CUCM's answer.
    register: Option<(StationRegister, Seen)>,
    /// Finished registrations (answered, or a new one replaced an unanswered one).
    done: Vec<(StationRegister, Seen, RegistrationOutcome)>,
    /// The answer was read: nothing more is needed from this connection.
    answered: bool,
    /// Messages that could not be read, summed.
    pub malformed: u64,
}

impl SccpStream {
    /// True once CUCM answered the registration: the rest of the connection is not read.
    pub fn settled(&self) -> bool {
        self.answered
    }

    /// Bytes of one direction, in stream order.
    pub fn data(&mut self, dir: usize, data: &[u8], seen: Seen) {
        if self.answered || self.lost.get(dir).copied().unwrap_or(true) {
            return;
        }
        let Some(buf) = self.bufs.get_mut(dir) else {
            return;
        };
        buf.extend_from_slice(data);
        let mut at = 0;
        let mut events = Vec::new();
        loop {
            match frame(buf, at) {
                Ok(Some(f)) => {
                    at = f.span.end;
                    events.push((f.id, f.span.start + HEADER + 4, f.body.to_vec()));
                }
                Ok(None) => break,
                Err(_) => {
                    self.malformed += 1;
                    self.lost[dir] = true;
                    break;
                }
            }
        }
        let buf = &mut self.bufs[dir];
        if buf.len() - at > MAX_BUFFER {
            // Cannot happen with a sound length check; a safety net for the memory bound.
            self.lost[dir] = true;
        }
        if self.lost[dir] {
            buf.clear();
            buf.shrink_to_fit();
        } else {
            buf.drain(..at);
        }
        for (id, base, body) in events {
            self.message(dir, id, &body, base, seen);
        }
    }

    fn message(&mut self, dir: usize, id: u32, body: &[u8], base: usize, seen: Seen) {
        match (dir, id) {
            (0, STATION_REGISTER) => match station_register(body, base) {
                Ok(reg) => {
                    if let Some((old, at)) = self.register.take() {
                        self.done.push((old, at, RegistrationOutcome::Unanswered));
                    }
                    self.register = Some((reg, seen));
                }
                Err(_) => self.malformed += 1,
            },
            (1, REGISTER_ACK) => self.answer(RegistrationOutcome::Accepted { at: seen }),
            (1, REGISTER_REJECT) => self.answer(RegistrationOutcome::Rejected {
                at: seen,
                reason: register_reject_text(body),
            }),
            _ => {}
        }
    }

    fn answer(&mut self, outcome: RegistrationOutcome) {
        if let Some((reg, at)) = self.register.take() {
            self.done.push((reg, at, outcome));
            self.answered = true;
            for b in &mut self.bufs {
                *b = Vec::new();
            }
        }
    }

    /// Bytes missing from the capture in one direction: its framing is lost.
    pub fn gap(&mut self, dir: usize) {
        if let Some(lost) = self.lost.get_mut(dir) {
            *lost = true;
        }
        if let Some(b) = self.bufs.get_mut(dir) {
            *b = Vec::new();
        }
    }

    /// Takes the finished registrations as evidence records.
    pub fn take(&mut self, phone: Endpoint, cucm: Endpoint) -> Vec<SccpRegistration> {
        std::mem::take(&mut self.done)
            .into_iter()
            .map(|(r, seen, outcome)| record(r, seen, outcome, phone, cucm))
            .collect()
    }

    /// Ends the connection: a registration never answered is kept as such.
    pub fn finish(&mut self, phone: Endpoint, cucm: Endpoint) -> Vec<SccpRegistration> {
        if let Some((reg, at)) = self.register.take() {
            self.done.push((reg, at, RegistrationOutcome::Unanswered));
        }
        self.take(phone, cucm)
    }
}

fn record(
    r: StationRegister,
    seen: Seen,
    outcome: RegistrationOutcome,
    phone: Endpoint,
    cucm: Endpoint,
) -> SccpRegistration {
    SccpRegistration {
        phone,
        cucm,
        device_name: r.device_name,
        device_type: r.device_type,
        model: r.device_type.map(model_name),
        station_ip: r.ip.map(IpAddr::V4),
        outcome,
        seen,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One message as a phone or CUCM writes it.
    fn msg(version: u32, id: u32, body: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&(4 + body.len() as u32).to_le_bytes());
        m.extend_from_slice(&version.to_le_bytes());
        m.extend_from_slice(&id.to_le_bytes());
        m.extend_from_slice(body);
        m
    }

    fn register_body(name: &str, device_type: u32) -> Vec<u8> {
        let mut b = vec![0u8; 16];
        b[..name.len()].copy_from_slice(name.as_bytes());
        b.extend_from_slice(&0u32.to_le_bytes()); // user id
        b.extend_from_slice(&1u32.to_le_bytes()); // instance
        b.extend_from_slice(&[10, 0, 0, 5]); // station IP
        b.extend_from_slice(&device_type.to_le_bytes());
        b.extend_from_slice(&5u32.to_le_bytes()); // max streams
        b.extend_from_slice(&[0u8; 12]); // active streams, protocol version, …
        b
    }

    fn ep(s: &str) -> Endpoint {
        s.parse().expect("endpoint")
    }

    #[test]
    fn station_register_gives_name_model_and_address() {
        let m = msg(
            0,
            STATION_REGISTER,
            &register_body("SEP001122334455", 30006),
        );
        let f = frame(&m, 0).expect("valid").expect("whole");
        assert_eq!((f.id, f.version, f.span.clone()), (1, 0, 0..m.len()));
        let r = station_register(f.body, 12).expect("register");
        assert_eq!(r.device_name, "SEP001122334455");
        assert_eq!(r.instance, 1);
        assert_eq!(r.ip, Some(Ipv4Addr::new(10, 0, 0, 5)));
        assert_eq!(r.device_type, Some(30006));
        assert_eq!(r.max_streams, Some(5));
        assert_eq!(model_name(30006), "7970");
        assert_eq!(model_name(7), "7960");
        assert_eq!(model_name(424242), "device type 424242");
    }

    #[test]
    fn partial_messages_wait_and_bad_lengths_are_errors() {
        let m = msg(0x11, REGISTER_ACK, &[0u8; 20]);
        for cut in 0..m.len() {
            assert_eq!(frame(&m[..cut], 0), Ok(None), "cut at {cut}");
        }
        let mut short = m.clone();
        short[..4].copy_from_slice(&3u32.to_le_bytes());
        assert!(matches!(
            frame(&short, 0),
            Err(SccpError::LengthTooShort { length: 3, .. })
        ));
        let mut long = m;
        long[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = frame(&long, 0).expect_err("too long");
        assert!(matches!(err, SccpError::LengthTooLong { span, .. } if span == (0..4)));
    }

    #[test]
    fn a_short_or_garbled_register_is_an_error_not_a_panic() {
        assert!(matches!(
            station_register(&[0u8; 27], 12),
            Err(SccpError::BodyTooShort {
                need: 28,
                have: 27,
                ..
            })
        ));
        let mut b = register_body("SEP001122334455", 7);
        b[3] = 0x07;
        assert!(matches!(
            station_register(&b, 12),
            Err(SccpError::BadDeviceName { span }) if span == (12..28)
        ));
        // Only the fixed 28 bytes: no device type.
        let r = station_register(&register_body("SEPAABBCCDDEEFF", 7)[..28], 0).expect("ok");
        assert_eq!((r.device_type, r.max_streams), (None, None));
        // Every truncation of arbitrary bytes is handled.
        let junk: Vec<u8> = (0..=255u8).collect();
        for n in 0..junk.len() {
            let _ = frame(&junk[..n], 0);
            let _ = station_register(&junk[..n], 0);
            let _ = register_reject_text(&junk[..n]);
        }
    }

    #[test]
    fn stream_pairs_register_with_ack_across_segments() {
        let mut s = SccpStream::default();
        let reg = msg(
            0,
            STATION_REGISTER,
            &register_body("SEP001122334455", 30006),
        );
        let (a, b) = reg.split_at(7);
        s.data(0, a, Seen::default());
        s.data(
            0,
            b,
            Seen {
                frame: 4,
                ..Seen::default()
            },
        );
        assert!(!s.settled());
        let mut server = msg(0, 0x0100, &[0; 4]); // keepalive ack: ignored
        server.extend(msg(0, REGISTER_ACK, &[0u8; 20]));
        s.data(
            1,
            &server,
            Seen {
                frame: 5,
                ..Seen::default()
            },
        );
        assert!(s.settled());
        let got = s.finish(ep("10.0.0.5:51000"), ep("10.0.0.1:2000"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].device_name, "SEP001122334455");
        assert_eq!(got[0].model.as_deref(), Some("7970"));
        assert_eq!(got[0].seen.frame, 4);
        assert_eq!(got[0].cucm, ep("10.0.0.1:2000"));
        assert!(matches!(got[0].outcome, RegistrationOutcome::Accepted { at } if at.frame == 5));
    }

    #[test]
    fn reject_text_and_unanswered_registrations() {
        let mut s = SccpStream::default();
        s.data(
            0,
            &msg(0, STATION_REGISTER, &register_body("SEP001122334455", 8)),
            Seen::default(),
        );
        let mut text = b"Error: DBConfig\0".to_vec();
        text.resize(36, 0);
        s.data(1, &msg(0, REGISTER_REJECT, &text), Seen::default());
        let got = s.finish(ep("10.0.0.5:51000"), ep("10.0.0.1:2000"));
        assert!(
            matches!(&got[0].outcome, RegistrationOutcome::Rejected { reason, .. } if reason == "Error: DBConfig")
        );

        let mut s = SccpStream::default();
        s.data(
            0,
            &msg(0, STATION_REGISTER, &register_body("SEP001122334455", 8)),
            Seen::default(),
        );
        let got = s.finish(ep("10.0.0.5:51000"), ep("10.0.0.1:2000"));
        assert_eq!(got[0].outcome, RegistrationOutcome::Unanswered);
        assert_eq!(got[0].model.as_deref(), Some("7940"));
    }

    #[test]
    fn lost_framing_stops_reading_that_direction() {
        let mut s = SccpStream::default();
        s.data(0, &[0xff; 12], Seen::default());
        assert_eq!(s.malformed, 1);
        s.data(
            0,
            &msg(0, STATION_REGISTER, &register_body("SEP001122334455", 8)),
            Seen::default(),
        );
        assert!(s.finish(ep("10.0.0.5:1"), ep("10.0.0.1:2000")).is_empty());
        let mut s = SccpStream::default();
        s.gap(0);
        s.data(
            0,
            &msg(0, STATION_REGISTER, &register_body("SEP001122334455", 8)),
            Seen::default(),
        );
        assert!(s.finish(ep("10.0.0.5:1"), ep("10.0.0.1:2000")).is_empty());
    }

    #[test]
    fn sccp_is_recognised_from_its_first_bytes() {
        assert!(looks_like_sccp(&msg(0, STATION_REGISTER, &[0; 28])));
        assert!(looks_like_sccp(&msg(0x16, 0x0000, &[])));
        assert!(!looks_like_sccp(b"GET / HTTP/1.1\r\n"));
        assert!(!looks_like_sccp(&[
            0x16, 3, 1, 0, 0x40, 1, 0, 0, 0x3c, 3, 3, 0
        ]));
        assert!(!looks_like_sccp(&[4, 0, 0]));
    }
}
