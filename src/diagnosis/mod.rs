//! Per-phone diagnosis: groups evidence by phone, runs the checks, and decides whether the
//! phone's ITL must be deleted (only when all four conditions of Cisco's guidance hold).
