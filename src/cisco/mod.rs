//! Cisco file formats: ITL/CTL trust lists and signed files (`.sgn`, `.enc.sgn`, firmware
//! `.loads`/`.sbn`), with RSA signature verification. Pure byte parsing; no packets here.

pub mod model;
