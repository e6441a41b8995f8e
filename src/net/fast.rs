//! Hand-decoding of the common frame: Ethernet, at most one 802.1Q tag, IPv4 without options
//! or IPv6 without extension headers, not fragmented, carrying TCP or UDP whose headers and
//! lengths all fit in the frame.
//!
//! Reads the few fields the pipeline needs from fixed-size header arrays; any frame outside that
//! shape (or with a length that does not add up) returns `None` and goes through etherparse,
//! which also decides how to report it. For the frames it accepts, the result is exactly
//! what the etherparse strict path gives (tested against it below, on generated frames and
//! on every capture in `captures/`).

use super::{TcpFlags, TcpSegment, Transport};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

/// What the fast path read from a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fast<'a> {
    /// Source and destination addresses.
    pub addrs: (IpAddr, IpAddr),
    /// The VLAN ID of the single tag, if any.
    pub vlan: Option<u16>,
    /// TCP or UDP.
    pub transport: Transport<'a>,
}

/// An Ethernet II frame (link type 1).
#[inline]
pub(crate) fn ethernet(frame: &[u8]) -> Option<Fast<'_>> {
    let (h, rest) = frame.split_first_chunk::<14>()?;
    let ether_type = u16::from_be_bytes([h[12], h[13]]);
    if ether_type == ETHERTYPE_VLAN {
        let (tag, inner) = rest.split_first_chunk::<4>()?;
        let tci = u16::from_be_bytes([tag[0], tag[1]]);
        return ip(
            u16::from_be_bytes([tag[2], tag[3]]),
            inner,
            Some(tci & 0x0fff),
        );
    }
    ip(ether_type, rest, None)
}

/// The payload of a link header that named its EtherType (Linux cooked captures).
#[inline]
pub(crate) fn ether_type(ether_type: u16, data: &[u8]) -> Option<Fast<'_>> {
    ip(ether_type, data, None)
}

// The headers below are read as fixed-size arrays taken once (`first_chunk`), not field by
// field through bounds-checked `get`s (issue 19, tls-heavy: the reading thread). A frame
// shorter than a header is declined either way: each function also needs the bytes its
// length fields claim, which are at least the header.

// Always inlined: returned from a call, the decoded headers went through memory once more.
#[inline(always)]
fn ip(ether_type: u16, data: &[u8], vlan: Option<u16>) -> Option<Fast<'_>> {
    let (addrs, protocol, payload) = match ether_type {
        ETHERTYPE_IPV4 => ipv4(data)?,
        ETHERTYPE_IPV6 => ipv6(data)?,
        _ => return None,
    };
    let transport = match protocol {
        PROTO_TCP => tcp(payload)?,
        PROTO_UDP => udp(payload)?,
        _ => return None,
    };
    Some(Fast {
        addrs,
        vlan,
        transport,
    })
}

/// IPv4 with a 20-byte header, whole, not a fragment.
#[inline]
fn ipv4(d: &[u8]) -> Option<((IpAddr, IpAddr), u8, &[u8])> {
    let h = d.first_chunk::<20>()?;
    if h[0] != 0x45 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    // More-fragments flag or a fragment offset: reassembly is etherparse's path.
    if u16::from_be_bytes([h[6], h[7]]) & 0x3fff != 0 || total < 20 {
        return None;
    }
    let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
    let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
    let payload = d.get(20..total)?;
    Some(((IpAddr::V4(src), IpAddr::V4(dst)), h[9], payload))
}

/// IPv6 without extension headers (the next header is the transport), not a jumbogram.
#[inline]
fn ipv6(d: &[u8]) -> Option<((IpAddr, IpAddr), u8, &[u8])> {
    let h = d.first_chunk::<40>()?;
    if h[0] >> 4 != 6 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
    if len == 0 {
        return None;
    }
    let (src, dst) = h[8..].split_at(16);
    let src: [u8; 16] = src.try_into().ok()?;
    let dst: [u8; 16] = dst.try_into().ok()?;
    let payload = d.get(40..40 + len)?;
    Some((
        (
            IpAddr::V6(Ipv6Addr::from(src)),
            IpAddr::V6(Ipv6Addr::from(dst)),
        ),
        h[6],
        payload,
    ))
}

#[inline]
fn udp(d: &[u8]) -> Option<Transport<'_>> {
    let h = d.first_chunk::<8>()?;
    let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
    // Length 0 (jumbogram / TSO) and lengths below the header are etherparse's to judge.
    if len < 8 {
        return None;
    }
    Some(Transport::Udp {
        src_port: u16::from_be_bytes([h[0], h[1]]),
        dst_port: u16::from_be_bytes([h[2], h[3]]),
        payload: d.get(8..len)?,
    })
}

#[inline]
fn tcp(d: &[u8]) -> Option<Transport<'_>> {
    let h = d.first_chunk::<20>()?;
    let header_len = usize::from(h[12] >> 4) * 4;
    if header_len < 20 {
        return None;
    }
    let flags = h[13];
    Some(Transport::Tcp(TcpSegment {
        src_port: u16::from_be_bytes([h[0], h[1]]),
        dst_port: u16::from_be_bytes([h[2], h[3]]),
        seq: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
        ack: u32::from_be_bytes([h[8], h[9], h[10], h[11]]),
        flags: TcpFlags {
            fin: flags & 0x01 != 0,
            syn: flags & 0x02 != 0,
            rst: flags & 0x04 != 0,
            psh: flags & 0x08 != 0,
            ack: flags & 0x10 != 0,
        },
        window: u16::from_be_bytes([h[14], h[15]]),
        payload: d.get(header_len..)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::decode::{Decoded, Decoder};
    use super::super::link;
    use super::*;
    use crate::capture::{CaptureReader, Frame, LinkType, Timestamp};
    use proptest::prelude::*;

    fn frame(data: &[u8], link_type: LinkType, orig_len: u32) -> Frame<'_> {
        Frame {
            number: 7,
            ts: Timestamp::from_parts(1, 2),
            link_type,
            interface: 0,
            data,
            orig_len,
        }
    }

    /// Decodes `f` with the fast path and through etherparse alone; both must agree exactly
    /// (result and counters). Returns whether the fast path took the frame.
    fn agree(fast_dec: &mut Decoder, slow_dec: &mut Decoder, f: &Frame<'_>) -> bool {
        let took = match link::strip(f.link_type, f.data) {
            link::LinkStart::Ethernet(d) => ethernet(d).is_some(),
            link::LinkStart::EtherType(t, d) => ether_type(t, d).is_some(),
            _ => false,
        };
        let a: Decoded<'_> = fast_dec.decode(f);
        let b: Decoded<'_> = slow_dec.decode_etherparse(f, link::strip(f.link_type, f.data));
        assert_eq!(a, b, "frame {:02x?}", f.data);
        took
    }

    /// One frame's shape, chosen by proptest; lengths may lie.
    #[derive(Debug, Clone)]
    struct Shape {
        tags: Vec<(u16, u16)>,
        v6: bool,
        ihl: u8,
        total_len_delta: i32,
        frag: u16,
        protocol: u8,
        tcp_doff: u8,
        tcp_flags: u8,
        udp_len_delta: i32,
        payload: Vec<u8>,
        padding: usize,
        header_bytes: [u8; 12],
    }

    fn shape() -> impl Strategy<Value = Shape> {
        (
            prop::collection::vec(
                (
                    prop::sample::select(vec![0x8100u16, 0x88a8, 0x9100]),
                    any::<u16>(),
                ),
                0..3,
            ),
            any::<bool>(),
            prop::sample::select(vec![5u8, 5, 5, 4, 6, 15]),
            prop::sample::select(vec![0i32, 0, 0, -1, 1, -30, 100, -100_000]),
            prop::sample::select(vec![0u16, 0, 0x4000, 0x2000, 0x0001, 0x2010]),
            prop::sample::select(vec![6u8, 6, 17, 17, 1, 0, 43, 44, 51, 60]),
            prop::sample::select(vec![5u8, 5, 8, 15, 0, 4]),
            any::<u8>(),
            prop::sample::select(vec![0i32, 0, 0, -1, 1, -8, -100_000, 5]),
            prop::collection::vec(any::<u8>(), 0..64),
            prop::sample::select(vec![0usize, 0, 6, 18]),
            any::<[u8; 12]>(),
        )
            .prop_map(
                |(
                    tags,
                    v6,
                    ihl,
                    total_len_delta,
                    frag,
                    protocol,
                    tcp_doff,
                    tcp_flags,
                    udp_len_delta,
                    payload,
                    padding,
                    header_bytes,
                )| Shape {
                    tags,
                    v6,
                    ihl,
                    total_len_delta,
                    frag,
                    protocol,
                    tcp_doff,
                    tcp_flags,
                    udp_len_delta,
                    payload,
                    padding,
                    header_bytes,
                },
            )
    }

    fn put16(v: &mut Vec<u8>, x: u16) {
        v.extend_from_slice(&x.to_be_bytes());
    }

    fn lied(len: usize, delta: i32) -> u16 {
        let n = i64::try_from(len).unwrap_or(0) + i64::from(delta);
        u16::try_from(n.clamp(0, 65535)).unwrap_or(0)
    }

    fn build(s: &Shape) -> Vec<u8> {
        let h = s.header_bytes;
        let mut l4 = Vec::new();
        if s.protocol == PROTO_UDP {
            put16(&mut l4, u16::from_be_bytes([h[0], h[1]]));
            put16(&mut l4, u16::from_be_bytes([h[2], h[3]]));
            put16(&mut l4, lied(8 + s.payload.len(), s.udp_len_delta));
            put16(&mut l4, 0);
        } else {
            l4.extend_from_slice(&h[0..4]);
            l4.extend_from_slice(&h[4..12]);
            l4.push(s.tcp_doff << 4);
            l4.push(s.tcp_flags);
            put16(&mut l4, 0x1234);
            put16(&mut l4, 0);
            put16(&mut l4, 0);
            let opts = usize::from(s.tcp_doff.max(5) - 5) * 4;
            l4.extend(std::iter::repeat_n(1u8, opts));
        }
        l4.extend_from_slice(&s.payload);
        let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        for &(tpid, tci) in &s.tags {
            put16(&mut f, tpid);
            put16(&mut f, tci);
        }
        if s.v6 {
            put16(&mut f, ETHERTYPE_IPV6);
            f.extend_from_slice(&[0x60, 0, 0, 0]);
            put16(&mut f, lied(l4.len(), s.total_len_delta));
            f.push(s.protocol);
            f.push(64);
            f.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
            f.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        } else {
            put16(&mut f, ETHERTYPE_IPV4);
            let hl = usize::from(s.ihl) * 4;
            f.push(0x40 | s.ihl);
            f.push(0);
            put16(&mut f, lied(hl.max(20) + l4.len(), s.total_len_delta));
            put16(&mut f, 0x5555);
            put16(&mut f, s.frag);
            f.push(64);
            f.push(s.protocol);
            put16(&mut f, 0);
            f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
            f.extend(std::iter::repeat_n(0u8, hl.saturating_sub(20)));
        }
        f.extend_from_slice(&l4);
        f.extend(std::iter::repeat_n(0u8, s.padding));
        f
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Generated frames (well-formed, lying, cut, fragmented, tagged), with random bytes
        /// overwritten and random cuts: the fast path never disagrees with etherparse.
        #[test]
        fn fast_path_equals_etherparse(
            s in shape(),
            flips in prop::collection::vec((0usize..96, any::<u8>()), 0..3),
            cut in prop::option::of(0usize..200),
            extra_orig in 0u32..3,
            sll in any::<bool>(),
        ) {
            let mut data = build(&s);
            for (at, b) in flips {
                if let Some(x) = data.get_mut(at) {
                    *x = b;
                }
            }
            let orig = u32::try_from(data.len()).unwrap_or(0) + extra_orig;
            if let Some(c) = cut {
                data.truncate(c);
            }
            let (bytes, lt) = if sll {
                // Linux cooked v2: the EtherType comes first, then 18 more header bytes.
                let et = data.get(12..14).map(|e| [e[0], e[1]]).unwrap_or([0, 0]);
                let mut v = vec![et[0], et[1], 0, 0, 0, 0, 0, 1, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0];
                v.extend_from_slice(data.get(14..).unwrap_or(&[]));
                (v, LinkType::LINUX_SLL2)
            } else {
                (data, LinkType::ETHERNET)
            };
            let f = frame(&bytes, lt, orig);
            agree(&mut Decoder::default(), &mut Decoder::default(), &f);
        }
    }

    #[test]
    fn common_frames_take_the_fast_path() {
        let base = Shape {
            tags: vec![],
            v6: false,
            ihl: 5,
            total_len_delta: 0,
            frag: 0x4000,
            protocol: PROTO_TCP,
            tcp_doff: 8,
            tcp_flags: 0x18,
            udp_len_delta: 0,
            payload: b"hello".to_vec(),
            padding: 0,
            header_bytes: [0, 80, 1, 187, 0, 0, 0, 1, 0, 0, 0, 2],
        };
        let variants = [
            base.clone(),
            Shape {
                tags: vec![(0x8100, 100)],
                protocol: PROTO_UDP,
                padding: 18,
                ..base.clone()
            },
            Shape {
                v6: true,
                ..base.clone()
            },
            Shape {
                v6: true,
                protocol: PROTO_UDP,
                tags: vec![(0x8100, 0)],
                ..base.clone()
            },
        ];
        for s in &variants {
            let data = build(s);
            let orig = u32::try_from(data.len()).unwrap_or(0);
            let f = frame(&data, LinkType::ETHERNET, orig);
            assert!(
                agree(&mut Decoder::default(), &mut Decoder::default(), &f),
                "{s:?}"
            );
        }
        // Options, fragments and a second tag are etherparse's.
        for s in [
            Shape {
                ihl: 6,
                ..base.clone()
            },
            Shape {
                frag: 0x2000,
                ..base.clone()
            },
            Shape {
                tags: vec![(0x8100, 1), (0x8100, 2)],
                ..base.clone()
            },
        ] {
            let data = build(&s);
            let orig = u32::try_from(data.len()).unwrap_or(0);
            let f = frame(&data, LinkType::ETHERNET, orig);
            assert!(
                !agree(&mut Decoder::default(), &mut Decoder::default(), &f),
                "{s:?}"
            );
        }
    }

    /// Every frame of every capture in `captures/`, in order (fragments reassembled across
    /// frames): same results and same counters either way.
    #[test]
    fn fast_path_equals_etherparse_on_every_capture() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
        let mut files = 0;
        let mut fast_frames = 0u64;
        let mut frames = 0u64;
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .expect("captures/ exists")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
            .collect();
        entries.sort();
        for path in entries {
            let mut reader = CaptureReader::open(&path).expect("capture opens");
            let mut fast_dec = Decoder::default();
            let mut slow_dec = Decoder::default();
            while let Ok(Some(f)) = reader.next_frame() {
                frames += 1;
                if agree(&mut fast_dec, &mut slow_dec, &f) {
                    fast_frames += 1;
                }
            }
            assert_eq!(fast_dec.stats(), slow_dec.stats(), "{}", path.display());
            files += 1;
        }
        assert!(files >= 20, "only {files} captures found");
        assert!(
            fast_frames * 2 > frames,
            "fast path took {fast_frames} of {frames} frames"
        );
    }
}
