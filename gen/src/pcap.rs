//! Capture file writers: legacy pcap (both byte orders, micro- or nanosecond timestamps) and
//! pcapng (several sections and interfaces, Enhanced/Simple/obsolete Packet blocks, any
//! other block raw). They write to any `Write`; `Vec<u8>` is the usual target in tests.

use std::io::{self, Write};

/// Byte order of a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    /// Little-endian (what x86 tcpdump writes).
    Little,
    /// Big-endian.
    Big,
}

impl Endian {
    fn u16(self, v: u16) -> [u8; 2] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
    fn u32(self, v: u32) -> [u8; 4] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
}

/// Timestamp precision of a legacy pcap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Magic 0xa1b2c3d4, microseconds.
    Micro,
    /// Magic 0xa1b23c4d, nanoseconds.
    Nano,
}

/// Writes a legacy pcap file.
pub struct PcapWriter<W: Write> {
    out: W,
    endian: Endian,
    precision: Precision,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header.
    pub fn new(
        mut out: W,
        link_type: u32,
        snaplen: u32,
        precision: Precision,
        endian: Endian,
    ) -> io::Result<Self> {
        let magic = match precision {
            Precision::Micro => 0xa1b2_c3d4u32,
            Precision::Nano => 0xa1b2_3c4d,
        };
        out.write_all(&endian.u32(magic))?;
        out.write_all(&endian.u16(2))?;
        out.write_all(&endian.u16(4))?;
        out.write_all(&endian.u32(0))?; // thiszone
        out.write_all(&endian.u32(0))?; // sigfigs
        out.write_all(&endian.u32(snaplen))?;
        out.write_all(&endian.u32(link_type))?;
        Ok(PcapWriter {
            out,
            endian,
            precision,
        })
    }

    /// Writes one packet record. `ts_nanos` is nanoseconds since the epoch; `data` is what was
    /// captured and `orig_len` what was on the wire (`orig_len > data.len()` marks a snaplen
    /// cut).
    pub fn write_packet(&mut self, ts_nanos: i64, data: &[u8], orig_len: u32) -> io::Result<()> {
        let secs = ts_nanos.div_euclid(1_000_000_000);
        let nanos = ts_nanos.rem_euclid(1_000_000_000);
        let frac = match self.precision {
            Precision::Micro => nanos / 1000,
            Precision::Nano => nanos,
        };
        let e = self.endian;
        self.out.write_all(&e.u32(secs as u32))?;
        self.out.write_all(&e.u32(frac as u32))?;
        self.out.write_all(&e.u32(data.len() as u32))?;
        self.out.write_all(&e.u32(orig_len))?;
        self.out.write_all(data)
    }

    /// Returns the underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// pcapng block type codes used by the writer.
pub mod block_type {
    /// Section Header Block.
    pub const SECTION_HEADER: u32 = 0x0A0D_0D0A;
    /// Interface Description Block.
    pub const INTERFACE_DESCRIPTION: u32 = 1;
    /// Obsolete Packet Block.
    pub const PACKET: u32 = 2;
    /// Simple Packet Block.
    pub const SIMPLE_PACKET: u32 = 3;
    /// Enhanced Packet Block.
    pub const ENHANCED_PACKET: u32 = 6;
}

/// Writes a pcapng file, one section at a time.
pub struct PcapNgWriter<W: Write> {
    out: W,
    endian: Endian,
    /// Per interface of the current section: the timestamp units per second and offset.
    interfaces: Vec<(u64, i64)>,
}

fn pad4(len: usize) -> usize {
    (4 - len % 4) % 4
}

impl<W: Write> PcapNgWriter<W> {
    /// Starts the file with a Section Header Block.
    pub fn new(out: W, endian: Endian) -> io::Result<Self> {
        let mut w = PcapNgWriter {
            out,
            endian,
            interfaces: Vec::new(),
        };
        w.new_section()?;
        Ok(w)
    }

    /// Starts a new section: the interface list is reset, as readers must do.
    pub fn new_section(&mut self) -> io::Result<()> {
        self.interfaces.clear();
        let e = self.endian;
        let mut body = Vec::new();
        body.extend_from_slice(&e.u32(0x1A2B_3C4D));
        body.extend_from_slice(&e.u16(1));
        body.extend_from_slice(&e.u16(0));
        body.extend_from_slice(&u64::MAX.to_le_bytes()); // section length unknown (-1)
        self.block(block_type::SECTION_HEADER, &body)
    }

    /// Adds an interface; returns its index. `tsresol` is the raw `if_tsresol` option byte
    /// (None = default microseconds; 9 = nanoseconds; high bit set = power of two).
    pub fn add_interface(
        &mut self,
        link_type: u16,
        snaplen: u32,
        tsresol: Option<u8>,
        tsoffset: Option<i64>,
    ) -> io::Result<u32> {
        let e = self.endian;
        let mut body = Vec::new();
        body.extend_from_slice(&e.u16(link_type));
        body.extend_from_slice(&e.u16(0));
        body.extend_from_slice(&e.u32(snaplen));
        if let Some(r) = tsresol {
            push_option(&mut body, e, 9, &[r]);
        }
        if let Some(off) = tsoffset {
            let bytes = match e {
                Endian::Little => off.to_le_bytes(),
                Endian::Big => off.to_be_bytes(),
            };
            push_option(&mut body, e, 14, &bytes);
        }
        if tsresol.is_some() || tsoffset.is_some() {
            push_option(&mut body, e, 0, &[]);
        }
        self.block(block_type::INTERFACE_DESCRIPTION, &body)?;
        let units = match tsresol {
            None => 1_000_000,
            Some(r) if r & 0x80 != 0 => 1u64 << (r & 0x7f),
            Some(r) => 10u64.pow(u32::from(r)),
        };
        self.interfaces.push((units, tsoffset.unwrap_or(0)));
        Ok(self.interfaces.len() as u32 - 1)
    }

    fn ts_units(&self, if_id: u32, ts_nanos: i64) -> u64 {
        let (units, offset) = self
            .interfaces
            .get(if_id as usize)
            .copied()
            .unwrap_or((1_000_000, 0));
        let rel = i128::from(ts_nanos) - i128::from(offset) * 1_000_000_000;
        (rel * i128::from(units) / 1_000_000_000) as u64
    }

    /// Writes an Enhanced Packet Block.
    pub fn write_enhanced(
        &mut self,
        if_id: u32,
        ts_nanos: i64,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        let e = self.endian;
        let ts = self.ts_units(if_id, ts_nanos);
        let mut body = Vec::with_capacity(20 + data.len() + 3);
        body.extend_from_slice(&e.u32(if_id));
        body.extend_from_slice(&e.u32((ts >> 32) as u32));
        body.extend_from_slice(&e.u32(ts as u32));
        body.extend_from_slice(&e.u32(data.len() as u32));
        body.extend_from_slice(&e.u32(orig_len));
        body.extend_from_slice(data);
        body.resize(body.len() + pad4(data.len()), 0);
        self.block(block_type::ENHANCED_PACKET, &body)
    }

    /// Writes a Simple Packet Block (interface 0, no timestamp).
    pub fn write_simple(&mut self, data: &[u8], orig_len: u32) -> io::Result<()> {
        let e = self.endian;
        let mut body = Vec::with_capacity(4 + data.len() + 3);
        body.extend_from_slice(&e.u32(orig_len));
        body.extend_from_slice(data);
        body.resize(body.len() + pad4(data.len()), 0);
        self.block(block_type::SIMPLE_PACKET, &body)
    }

    /// Writes an obsolete Packet Block (type 2).
    pub fn write_obsolete(
        &mut self,
        if_id: u16,
        ts_nanos: i64,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        let e = self.endian;
        let ts = self.ts_units(u32::from(if_id), ts_nanos);
        let mut body = Vec::with_capacity(20 + data.len() + 3);
        body.extend_from_slice(&e.u16(if_id));
        body.extend_from_slice(&e.u16(0)); // drops count
        body.extend_from_slice(&e.u32((ts >> 32) as u32));
        body.extend_from_slice(&e.u32(ts as u32));
        body.extend_from_slice(&e.u32(data.len() as u32));
        body.extend_from_slice(&e.u32(orig_len));
        body.extend_from_slice(data);
        body.resize(body.len() + pad4(data.len()), 0);
        self.block(block_type::PACKET, &body)
    }

    /// Writes any block with the given type and body (padded to 4 bytes).
    pub fn block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        let e = self.endian;
        let padded = body.len() + pad4(body.len());
        let total = (12 + padded) as u32;
        self.out.write_all(&e.u32(block_type))?;
        self.out.write_all(&e.u32(total))?;
        self.out.write_all(body)?;
        self.out.write_all(&[0u8; 3][..pad4(body.len())])?;
        self.out.write_all(&e.u32(total))
    }

    /// Returns the underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

fn push_option(body: &mut Vec<u8>, e: Endian, code: u16, value: &[u8]) {
    body.extend_from_slice(&e.u16(code));
    body.extend_from_slice(&e.u16(value.len() as u16));
    body.extend_from_slice(value);
    body.resize(body.len() + pad4(value.len()), 0);
}
