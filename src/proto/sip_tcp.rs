//! SIP over TCP (5060): the phone's side of a SIP connection, split into messages by the
//! header block and `Content-Length` (RFC 3261 §18.3), with every `REFER` handed to
//! [`super::sip::parse_device_tl_info`], and every `REGISTER`'s head to
//! [`super::sip::parse_register`] (how a phone names itself, issue 19 item 6).
//!
//! Cheap for what is not an alarm: header lines are examined in place (only a line split
//! across segments is copied), bodies of other messages are skipped without copying, and
//! only a `REFER` (and a `REGISTER`'s head) is buffered, up to [`MAX_MESSAGE`] bytes. A message over that cap is
//! skipped and counted. After bytes the capture lost, framing continues when the loss fell
//! inside a body of known length; otherwise the stream waits for the next line that looks
//! like a SIP start line.

use super::sip::{self, DeviceTlInfo, SipRegister};
use crate::evidence::Seen;

/// Largest `REFER` (head and body) buffered, and largest header block followed; alarms are a
/// few hundred bytes.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Longest line kept while looking for a start line after lost bytes.
const MAX_RESYNC_LINE: usize = 1024;
/// Longest SIP method name recognised.
const MAX_METHOD: usize = 32;

/// True when `line` (with or without its line end) is a SIP request line:
/// `METHOD SP Request-URI SP SIP/2.0`.
fn is_request_line(line: &[u8]) -> bool {
    let line = trim_line_end(line);
    let Some(sp) = line.iter().position(|&b| b == b' ') else {
        return false;
    };
    let method_ok = (1..=MAX_METHOD).contains(&sp)
        && line
            .get(..sp)
            .is_some_and(|m| m.iter().all(u8::is_ascii_alphabetic));
    method_ok
        && line.len() >= sp + 9
        && line
            .get(line.len() - 8..)
            .is_some_and(|v| v.eq_ignore_ascii_case(b" SIP/2.0"))
}

/// True when `line` is a SIP request or status line.
fn is_start_line(line: &[u8]) -> bool {
    is_request_line(line)
        || line
            .get(..8)
            .is_some_and(|v| v.eq_ignore_ascii_case(b"SIP/2.0 "))
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// True when `b` starts with a SIP request line (no allocation): lets a connection whose
/// start the capture missed be picked up at a message boundary.
pub fn looks_like_request(b: &[u8]) -> bool {
    let head = b.get(..b.len().min(MAX_RESYNC_LINE)).unwrap_or_default();
    memchr::memchr(b'\n', head)
        .and_then(|i| head.get(..i))
        .is_some_and(is_request_line)
}

/// True when `b` starts with a whole SIP request or status line.
fn starts_with_start_line(b: &[u8]) -> bool {
    let head = b.get(..b.len().min(MAX_RESYNC_LINE)).unwrap_or_default();
    memchr::memchr(b'\n', head)
        .and_then(|i| head.get(..i))
        .is_some_and(is_start_line)
}

/// Where the stream is within its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between messages: skipping keep-alive line ends, waiting for a start line.
    Idle,
    /// In a header block; `first` until the start line is complete.
    Head { first: bool },
    /// Skipping this many body bytes of a message that is not read.
    Skip(u64),
    /// Buffering this many more body bytes of a `REFER`.
    Refer(u64),
    /// Framing lost (bytes missing, malformed head): waiting for a start line.
    Resync,
}

/// Anomaly counters of one SIP stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SipStats {
    /// Messages (or header blocks) over [`MAX_MESSAGE`], skipped unread.
    pub oversize: u64,
    /// The frame of the segment that took the first of them past the limit.
    pub first_oversize: Option<u64>,
    /// `REFER`s the capture lost bytes of, not read.
    pub refers_lost: u64,
    /// Times framing was lost to bytes missing from the capture.
    pub resyncs_after_gap: u64,
    /// Header blocks that could not be framed (bad start line or `Content-Length`).
    pub malformed: u64,
}

/// The client→server byte stream of one SIP-over-TCP connection.
#[derive(Debug)]
pub struct SipStream {
    state: State,
    /// A line split across segments (copied only then).
    partial: Vec<u8>,
    /// Resync only: the partial line was too long to be a start line; drop to its end.
    discarding: bool,
    /// Header bytes of the current message so far.
    head_len: usize,
    /// The current message is a `REFER`.
    refer: bool,
    /// The current message is a `REGISTER`: its head is buffered (the body is not needed).
    register: bool,
    content_length: Option<u64>,
    /// The `REFER` being buffered (head, then body).
    message: Vec<u8>,
    alarms: Vec<(DeviceTlInfo, Seen)>,
    /// REGISTERs read, not yet taken.
    registers: Vec<(SipRegister, Seen)>,
    /// The frame of the bytes being read (a REGISTER is dated by the end of its head).
    seen: Seen,
    /// What went wrong, counted.
    pub stats: SipStats,
}

impl Default for SipStream {
    fn default() -> Self {
        Self::new()
    }
}

impl SipStream {
    /// A stream that starts at a message boundary.
    pub fn new() -> Self {
        SipStream {
            state: State::Idle,
            partial: Vec::new(),
            discarding: false,
            head_len: 0,
            refer: false,
            register: false,
            content_length: None,
            message: Vec::new(),
            alarms: Vec::new(),
            registers: Vec::new(),
            seen: Seen::default(),
            stats: SipStats::default(),
        }
    }

    /// Alarms read so far (taken), each with the frame that completed its `REFER`.
    pub fn take_alarms(&mut self) -> Vec<(DeviceTlInfo, Seen)> {
        std::mem::take(&mut self.alarms)
    }

    /// REGISTERs read so far (taken), each with the frame that completed its head.
    pub fn take_registers(&mut self) -> Vec<(SipRegister, Seen)> {
        std::mem::take(&mut self.registers)
    }

    /// The next bytes of the stream, seen in `seen`.
    pub fn data(&mut self, mut d: &[u8], seen: Seen) {
        self.seen = seen;
        // Messages tend to start segments: after lost bytes, a segment that opens with a
        // start line ends whatever unterminated text came before it.
        if self.state == State::Resync
            && (!self.partial.is_empty() || self.discarding)
            && starts_with_start_line(d)
        {
            self.partial.clear();
            self.discarding = false;
        }
        while !d.is_empty() {
            match self.state {
                State::Idle => {
                    let skip = d
                        .iter()
                        .position(|&b| b != b'\r' && b != b'\n')
                        .unwrap_or(d.len());
                    d = d.get(skip..).unwrap_or_default();
                    if !d.is_empty() {
                        self.begin_message();
                    }
                }
                State::Head { .. } | State::Resync => d = self.lines(d),
                State::Skip(n) => {
                    let k = take_len(n, d.len());
                    d = d.get(k..).unwrap_or_default();
                    self.state = if n > k as u64 {
                        State::Skip(n - k as u64)
                    } else {
                        State::Idle
                    };
                }
                State::Refer(n) => {
                    let k = take_len(n, d.len());
                    self.message
                        .extend_from_slice(d.get(..k).unwrap_or_default());
                    d = d.get(k..).unwrap_or_default();
                    if n > k as u64 {
                        self.state = State::Refer(n - k as u64);
                    } else {
                        self.complete_refer(seen);
                    }
                }
            }
        }
    }

    /// `len` bytes of the stream are missing from the capture.
    pub fn gap(&mut self, len: u64) {
        self.partial.clear();
        self.discarding = false;
        let after = |remaining: u64| {
            if len < remaining {
                State::Skip(remaining - len)
            } else if len == remaining {
                State::Idle
            } else {
                State::Resync
            }
        };
        self.state = match self.state {
            State::Skip(n) => after(n),
            State::Refer(n) => {
                self.stats.refers_lost += 1;
                self.message.clear();
                after(n)
            }
            State::Head { .. } => {
                if self.refer {
                    self.stats.refers_lost += 1;
                }
                self.message.clear();
                State::Resync
            }
            State::Idle | State::Resync => State::Resync,
        };
        if self.state == State::Resync {
            self.stats.resyncs_after_gap += 1;
        }
    }

    fn begin_message(&mut self) {
        self.state = State::Head { first: true };
        self.head_len = 0;
        self.refer = false;
        self.register = false;
        self.content_length = None;
        self.message.clear();
    }

    /// Consumes whole lines of `d` (header or resync), returns what follows the state change
    /// or the end of the data.
    fn lines<'d>(&mut self, d: &'d [u8]) -> &'d [u8] {
        let Some(nl) = memchr::memchr(b'\n', d) else {
            self.hold_partial(d);
            return &[];
        };
        let (line, rest) = d.split_at(nl + 1);
        if self.partial.is_empty() && !self.discarding {
            self.line(line);
        } else {
            let discarding = std::mem::take(&mut self.discarding);
            if !discarding {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(line);
                self.line(&whole);
                whole.clear();
                // Keep the allocation for the next split line.
                if self.partial.is_empty() {
                    self.partial = whole;
                }
            }
            self.partial.clear();
        }
        rest
    }

    /// Keeps the start of a line split across segments, within the caps.
    fn hold_partial(&mut self, d: &[u8]) {
        if self.discarding {
            return;
        }
        let cap = match self.state {
            State::Resync => MAX_RESYNC_LINE,
            _ => MAX_MESSAGE.saturating_sub(self.head_len),
        };
        if self.partial.len() + d.len() > cap {
            self.partial.clear();
            match self.state {
                State::Resync => self.discarding = true,
                _ => self.oversize_head(),
            }
            return;
        }
        self.partial.extend_from_slice(d);
    }

    /// A header block over the cap: skip it and find the next message.
    fn oversize_head(&mut self) {
        self.count_oversize();
        self.message.clear();
        self.state = State::Resync;
        // The rest of the over-long line is dropped.
        self.discarding = true;
    }

    /// Counts a message over [`MAX_MESSAGE`], dated by the segment being read (issue 19:
    /// the limit event says where the first one was).
    fn count_oversize(&mut self) {
        self.stats.oversize += 1;
        self.stats.first_oversize.get_or_insert(self.seen.frame);
    }

    /// One whole line (with its line end).
    fn line(&mut self, line: &[u8]) {
        match self.state {
            State::Resync if is_start_line(line) => {
                self.begin_message();
                self.head_line(line, true);
            }
            State::Head { first } => self.head_line(line, first),
            _ => {}
        }
    }

    fn head_line(&mut self, line: &[u8], first: bool) {
        self.head_len += line.len();
        if self.head_len > MAX_MESSAGE {
            self.count_oversize();
            self.message.clear();
            self.state = State::Resync;
            return;
        }
        if first {
            if !is_start_line(line) {
                self.stats.malformed += 1;
                self.state = State::Resync;
                return;
            }
            self.refer = line
                .get(..6)
                .is_some_and(|m| m.eq_ignore_ascii_case(b"REFER "));
            self.register = line
                .get(..9)
                .is_some_and(|m| m.eq_ignore_ascii_case(b"REGISTER "));
            self.state = State::Head { first: false };
        }
        // Bounded by the head's cap above: an endless head is dropped, not held.
        if self.refer || self.register {
            self.message.extend_from_slice(line);
        }
        let text = trim_line_end(line);
        if text.is_empty() {
            self.end_of_head();
            return;
        }
        // Only `Content-Length` / `l` matter here: other lines cost one byte test.
        if !first
            && matches!(text.first(), Some(b'C' | b'c' | b'L' | b'l'))
            && let Some(value) = content_length(text)
        {
            match value {
                Some(n) => self.content_length = Some(n),
                None => {
                    self.stats.malformed += 1;
                    self.message.clear();
                    self.state = State::Resync;
                }
            }
        }
    }

    fn end_of_head(&mut self) {
        // Over TCP Content-Length is mandatory; without it the body is taken as empty.
        let body = self.content_length.unwrap_or(0);
        if self.register {
            if let Some(reg) = sip::parse_register(&self.message) {
                self.registers.push((reg, self.seen));
            }
            // Freed, not cleared: one REGISTER per re-registration interval per phone.
            self.message = Vec::new();
        }
        if !self.refer {
            self.state = if body == 0 {
                State::Idle
            } else {
                State::Skip(body)
            };
            return;
        }
        let total = (self.head_len as u64).saturating_add(body);
        if total > MAX_MESSAGE as u64 {
            self.count_oversize();
            self.message.clear();
            self.state = State::Skip(body);
            if body == 0 {
                self.state = State::Idle;
            }
            return;
        }
        if body == 0 {
            // No body, no alarm; nothing to parse.
            self.message.clear();
            self.state = State::Idle;
        } else {
            self.message.reserve(body as usize);
            self.state = State::Refer(body);
        }
    }

    fn complete_refer(&mut self, seen: Seen) {
        if let Some(info) = sip::parse_device_tl_info(&self.message) {
            self.alarms.push((info, seen));
        }
        // Freed, not cleared: a phone sends one REFER per boot and keeps its SIP connection
        // open, so a kept buffer would stay with every phone of a fleet (issue 20).
        self.message = Vec::new();
        self.state = State::Idle;
    }
}

/// How many of `len` available bytes a body with `remaining` bytes takes.
fn take_len(remaining: u64, len: usize) -> usize {
    usize::try_from(remaining).map_or(len, |r| r.min(len))
}

/// For a `Content-Length` (or compact `l`) header line: Some(parsed value), with None when
/// the value is not a number. None for other headers.
fn content_length(line: &[u8]) -> Option<Option<u64>> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = line.get(..colon)?.trim_ascii();
    if !(name.eq_ignore_ascii_case(b"Content-Length") || name.eq_ignore_ascii_case(b"l")) {
        return None;
    }
    let value = line.get(colon + 1..)?.trim_ascii();
    Some(
        std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.parse::<u64>().ok()),
    )
}

/// The memory budget ([`crate::budget`]): what this stream holds, and giving it up.
impl SipStream {
    /// Bytes its buffers hold (a split line, a `REFER` being gathered).
    pub fn buffered(&self) -> usize {
        self.partial.capacity() + self.message.capacity()
    }

    /// The memory budget refused the buffers: a `REFER` being gathered is lost (counted
    /// among the lost ones, unknown rather than absent) and reading resumes at the next
    /// request line.
    pub fn starve(&mut self) {
        if matches!(self.state, State::Refer(_))
            || (self.refer && matches!(self.state, State::Head { .. }))
        {
            self.stats.refers_lost += 1;
        }
        self.partial = Vec::new();
        self.message = Vec::new();
        self.discarding = false;
        self.state = State::Resync;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BODY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<x-cisco-alarm>\n<Alarm Name=\"DeviceTLInfo\">\n<ParameterList>\n<String name=\"DeviceName\">SEP00005E005322</String>\n<String name=\"ITL_Signature\">1B A1 C9 07 11 22 33 44 55 66 77 88 99 00 AA BB CC DD 4D 6D</String>\n<Enum name=\"StatusCode\">3</Enum>\n</ParameterList>\n</Alarm>\n</x-cisco-alarm>";

    fn refer(body: &str) -> Vec<u8> {
        format!(
            "REFER sip:198.51.100.10 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.22:50168\r\nCSeq: 1 REFER\r\nContent-Type: application/x-cisco-alarm+xml\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    fn message(method: &str, body: &str) -> Vec<u8> {
        format!(
            "{method} sip:198.51.100.10 SIP/2.0\r\nCSeq: 2 {method}\r\nl: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    fn seen(frame: u64) -> Seen {
        Seen {
            capture: 0,
            frame,
            ..Seen::default()
        }
    }

    /// Feeds `stream` in pieces of `step` bytes; returns the device names read.
    fn feed(s: &mut SipStream, bytes: &[u8], step: usize) -> Vec<String> {
        for (i, piece) in bytes.chunks(step.max(1)).enumerate() {
            s.data(piece, seen(i as u64));
        }
        s.take_alarms()
            .into_iter()
            .map(|(a, _)| a.device_name.unwrap_or_default())
            .collect()
    }

    #[test]
    fn refer_between_other_messages_any_segmentation() {
        let mut bytes = message("REGISTER", "");
        bytes.extend_from_slice(b"\r\n\r\n"); // keep-alive
        bytes.extend(message("INVITE", "v=0\r\no=- 1 1 IN IP4 192.0.2.22\r\n"));
        bytes.extend(refer(BODY));
        bytes.extend(message("REFER", "<not an alarm/>")); // REFER without the alarm type
        bytes.extend(message("NOTIFY", "x"));
        for step in [1, 2, 7, 100, 1300, bytes.len()] {
            let mut s = SipStream::new();
            assert_eq!(
                feed(&mut s, &bytes, step),
                ["SEP00005E005322"],
                "step {step}"
            );
            assert_eq!(s.stats, SipStats::default());
            assert_eq!(s.state, State::Idle);
            assert!(s.message.is_empty());
        }
    }

    #[test]
    fn completing_frame_is_reported() {
        let bytes = refer(BODY);
        let mut s = SipStream::new();
        s.data(bytes.get(..100).unwrap(), seen(7));
        s.data(bytes.get(100..).unwrap(), seen(9));
        let alarms = s.take_alarms();
        assert_eq!(alarms.len(), 1);
        assert_eq!(alarms[0].1.frame, 9);
    }

    #[test]
    fn other_bodies_are_skipped_without_buffering() {
        let big = "a".repeat(200_000);
        let mut s = SipStream::new();
        let bytes = message("MESSAGE", &big);
        let mut max_held = 0;
        for piece in bytes.chunks(1460) {
            s.data(piece, seen(1));
            max_held = max_held.max(s.message.capacity() + s.partial.capacity());
        }
        assert!(max_held < 4096, "held {max_held} bytes");
        assert_eq!(feed(&mut s, &refer(BODY), 1460), ["SEP00005E005322"]);
    }

    #[test]
    fn oversize_refer_is_skipped_and_counted() {
        let padding = format!("<!--{}-->", "x".repeat(MAX_MESSAGE));
        let mut bytes = refer(&format!("{BODY}{padding}"));
        bytes.extend(refer(BODY));
        let mut s = SipStream::new();
        assert_eq!(feed(&mut s, &bytes, 1460), ["SEP00005E005322"]);
        assert_eq!(s.stats.oversize, 1);
        // `feed` dates each piece by its index: the head announcing the over-long body ends
        // in the first piece, so the skip is dated there (issue 19: where it happened).
        assert_eq!(s.stats.first_oversize, Some(0), "{:?}", s.stats);
        assert!(s.message.capacity() <= 2 * MAX_MESSAGE);
    }

    #[test]
    fn endless_header_block_is_bounded() {
        let mut s = SipStream::new();
        s.data(b"REFER sip:a SIP/2.0\r\n", seen(1));
        for _ in 0..1000 {
            s.data(
                b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
                seen(1),
            );
            assert!(s.message.len() <= MAX_MESSAGE);
        }
        // One line without end.
        for _ in 0..1000 {
            s.data(&[b'y'; 1000], seen(1));
            assert!(s.partial.len() <= MAX_MESSAGE);
        }
        assert!(s.stats.oversize >= 1);
        s.data(b"\r\n", seen(1));
        assert_eq!(feed(&mut s, &refer(BODY), 500), ["SEP00005E005322"]);
    }

    #[test]
    fn gap_in_a_skipped_body_keeps_framing() {
        let body = "v=0\r\n".repeat(100);
        let invite = message("INVITE", &body);
        let cut = invite.len() - 200;
        let mut s = SipStream::new();
        s.data(invite.get(..cut - 50).unwrap(), seen(1));
        s.gap(50);
        s.data(invite.get(cut..).unwrap(), seen(2));
        assert_eq!(feed(&mut s, &refer(BODY), 1460), ["SEP00005E005322"]);
        assert_eq!(s.stats.resyncs_after_gap, 0);
    }

    #[test]
    fn gap_in_a_refer_loses_it_and_the_next_one_is_read() {
        let first = refer(BODY);
        let mut s = SipStream::new();
        s.data(first.get(..300).unwrap(), seen(1));
        s.gap(20);
        s.data(first.get(320..).unwrap(), seen(2));
        assert!(s.take_alarms().is_empty());
        assert_eq!(s.stats.refers_lost, 1);
        assert_eq!(feed(&mut s, &refer(BODY), 1460), ["SEP00005E005322"]);
    }

    #[test]
    fn gap_in_a_head_resyncs_on_the_next_start_line() {
        let mut bytes = message("INVITE", "abc");
        let resume = bytes.len();
        bytes.extend(refer(BODY));
        let mut s = SipStream::new();
        s.data(bytes.get(..10).unwrap(), seen(1));
        s.gap(30);
        // Rest of the INVITE (mid-line), then the REFER at a segment boundary.
        s.data(bytes.get(40..resume).unwrap(), seen(2));
        assert_eq!(
            feed(&mut s, bytes.get(resume..).unwrap(), 1460),
            ["SEP00005E005322"]
        );
        assert_eq!(s.stats.resyncs_after_gap, 1);
    }

    #[test]
    fn bad_content_length_resyncs() {
        let mut bytes = b"INVITE sip:a SIP/2.0\r\nContent-Length: lots\r\n\r\nbody\r\n".to_vec();
        bytes.extend(refer(BODY));
        let mut s = SipStream::new();
        assert_eq!(feed(&mut s, &bytes, 3), ["SEP00005E005322"]);
        assert_eq!(s.stats.malformed, 1);
    }

    /// A REGISTER as an 8845 sends it, naming itself in its Contact (issue 19 item 6).
    fn register(name: &str) -> Vec<u8> {
        let body = "";
        format!(
            "REGISTER sip:198.51.100.10 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.22:50168\r\nCSeq: 101 REGISTER\r\nUser-Agent: Cisco-CP8845/14.2.1\r\nContact: <sip:1001@192.0.2.22:50168;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-0011223344aa>\";+u.sip!devicename.ccm.cisco.com=\"{name}\";+u.sip!model.ccm.cisco.com=\"36670\"\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    #[test]
    fn register_split_across_segments_is_read_at_the_end_of_its_head() {
        let mut bytes = message("OPTIONS", "x");
        bytes.extend(register("SEP0011223344AA"));
        bytes.extend(refer(BODY));
        for step in [1, 2, 7, 100, 1300, bytes.len()] {
            let mut s = SipStream::new();
            let mut got = Vec::new();
            for (i, piece) in bytes.chunks(step).enumerate() {
                s.data(piece, seen(i as u64));
                got.extend(s.take_registers());
            }
            assert_eq!(got.len(), 1, "step {step}");
            let (reg, at) = &got[0];
            assert_eq!(reg.device_name.as_deref(), Some("SEP0011223344AA"));
            assert_eq!(reg.user_agent.as_deref(), Some("Cisco-CP8845/14.2.1"));
            // Dated by the segment that held the blank line ending its head.
            let head_end = message("OPTIONS", "x").len() + register("SEP0011223344AA").len();
            assert_eq!(at.frame, ((head_end - 1) / step) as u64, "step {step}");
            // The REFER after it is still read, and no REGISTER head is held.
            assert_eq!(s.take_alarms().len(), 1, "step {step}: the REFER after it");
            assert_eq!(s.stats, SipStats::default());
            assert_eq!(s.message.capacity(), 0);
        }
    }

    #[test]
    fn oversize_register_head_is_bounded_and_the_next_one_read() {
        let mut s = SipStream::new();
        s.data(b"REGISTER sip:a SIP/2.0\r\n", seen(1));
        for _ in 0..2000 {
            s.data(
                b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
                seen(1),
            );
            assert!(s.message.len() <= MAX_MESSAGE);
            assert!(s.buffered() <= 2 * MAX_MESSAGE);
        }
        assert!(s.take_registers().is_empty());
        assert_eq!(s.stats.oversize, 1);
        s.data(b"\r\n", seen(2));
        s.data(&register("SEP0011223344AB"), seen(3));
        let got = s.take_registers();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0.device_name.as_deref(), Some("SEP0011223344AB"));
        assert_eq!(got[0].1.frame, 3);
    }

    #[test]
    fn register_lost_to_a_gap_is_not_read() {
        let bytes = register("SEP0011223344AA");
        let mut s = SipStream::new();
        s.data(bytes.get(..60).unwrap(), seen(1));
        s.gap(40);
        s.data(bytes.get(100..).unwrap(), seen(2));
        assert!(s.take_registers().is_empty());
        s.data(&register("SEP0011223344AC"), seen(3));
        assert_eq!(s.take_registers().len(), 1);
    }

    #[test]
    fn request_lines() {
        assert!(looks_like_request(
            b"REFER sip:198.51.100.10 SIP/2.0\r\nVia: x"
        ));
        assert!(looks_like_request(b"OPTIONS sips:a@b SIP/2.0\n"));
        assert!(!looks_like_request(b"SIP/2.0 200 OK\r\n"));
        assert!(!looks_like_request(b"GET / HTTP/1.1\r\n"));
        assert!(!looks_like_request(b"REFER sip:198.51.100.10 SIP/2.0")); // no line end yet
        assert!(!looks_like_request(b"\r\n\r\n"));
        assert!(!looks_like_request(b""));
        assert!(is_start_line(b"SIP/2.0 202 Accepted\r\n"));
    }

    proptest! {
        #[test]
        fn never_panics_and_stays_bounded(
            pieces in proptest::collection::vec(
                (proptest::collection::vec(any::<u8>(), 0..300), 0u64..100, any::<bool>()),
                0..40,
            ),
        ) {
            let mut s = SipStream::new();
            for (bytes, gap, with_gap) in &pieces {
                s.data(bytes, seen(1));
                if *with_gap {
                    s.gap(*gap);
                }
                prop_assert!(s.message.len() <= MAX_MESSAGE);
                prop_assert!(s.partial.len() <= MAX_MESSAGE);
            }
        }

        #[test]
        fn alarm_survives_any_segmentation_after_noise(
            noise in proptest::collection::vec(any::<u8>(), 0..200),
            step in 1usize..200,
        ) {
            // Noise, lost bytes, then a REFER starting a segment: always read.
            let mut s = SipStream::new();
            s.data(&noise, seen(1));
            s.gap(1);
            prop_assert_eq!(feed(&mut s, &refer(BODY), step), ["SEP00005E005322"]);
        }
    }
}
