//! placeholder
mod messages;
mod zonecfg;
