//! Resource quantities (`100m`, `1.5Gi`, `2e3`), parsed exactly. A quantity is held as an
//! integer count of nano-units, so sums and comparisons never round; the conversions to
//! milli-units (CPU) and whole units (bytes) round up, as the kubelet and scheduler do.

use std::fmt;

/// A parsed quantity, in nano-units (10^-9 of the base unit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity {
    nanos: i128,
}

/// Why a quantity string was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
pub struct QuantityError;

const NANO: i128 = 1_000_000_000;
/// The largest magnitude we accept: 2^63 base units, far beyond any real resource.
const LIMIT: i128 = (i64::MAX as i128) * NANO;

impl Quantity {
    /// Zero.
    pub const ZERO: Quantity = Quantity { nanos: 0 };

    /// A quantity of whole units.
    pub fn from_units(units: i64) -> Self {
        Self { nanos: i128::from(units) * NANO }
    }

    /// A quantity of milli-units.
    pub fn from_millis(millis: i64) -> Self {
        Self { nanos: i128::from(millis) * 1_000_000 }
    }

    /// The value in milli-units, rounded up (CPU is accounted in millicores).
    pub fn millis(self) -> i64 {
        ceil_div(self.nanos, 1_000_000).clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// The value in whole units, rounded up (memory is accounted in bytes).
    pub fn units(self) -> i64 {
        ceil_div(self.nanos, NANO).clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// True when negative.
    pub fn is_negative(self) -> bool {
        self.nanos < 0
    }

    /// Saturating sum.
    pub fn plus(self, other: Quantity) -> Quantity {
        Quantity { nanos: (self.nanos + other.nanos).clamp(-LIMIT, LIMIT) }
    }

    /// Saturating difference.
    pub fn minus(self, other: Quantity) -> Quantity {
        Quantity { nanos: (self.nanos - other.nanos).clamp(-LIMIT, LIMIT) }
    }
}

fn ceil_div(value: i128, divisor: i128) -> i128 {
    let q = value / divisor;
    if value % divisor > 0 { q + 1 } else { q }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos % NANO == 0 {
            write!(f, "{}", self.nanos / NANO)
        } else if self.nanos % 1_000_000 == 0 {
            write!(f, "{}m", self.nanos / 1_000_000)
        } else {
            write!(f, "{}n", self.nanos)
        }
    }
}

/// Parses a quantity string.
pub fn parse_quantity(text: &str) -> Result<Quantity, QuantityError> {
    let text = text.trim();
    let number_end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || ((c == '+' || c == '-') && i == 0)))
        .map_or(text.len(), |(i, _)| i);
    let (number, suffix) = text.split_at(number_end);
    let (negative, digits) = match number.as_bytes().first() {
        Some(b'-') => (true, &number[1..]),
        Some(b'+') => (false, &number[1..]),
        _ => (false, number),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return Err(QuantityError);
    }
    // The mantissa as an integer and a power of ten: 1.25 = 125 * 10^-2.
    let mantissa_digits = format!("{whole}{fraction}");
    let mantissa_digits = mantissa_digits.trim_start_matches('0');
    if mantissa_digits.len() > 30 {
        return Err(QuantityError);
    }
    let mantissa: i128 =
        if mantissa_digits.is_empty() { 0 } else { mantissa_digits.parse().map_err(|_| QuantityError)? };
    let mut exponent10 = -(fraction.len() as i32);
    let mut binary: i128 = 1;
    match suffix {
        "" => {}
        "n" => exponent10 -= 9,
        "u" => exponent10 -= 6,
        "m" => exponent10 -= 3,
        "k" => exponent10 += 3,
        "M" => exponent10 += 6,
        "G" => exponent10 += 9,
        "T" => exponent10 += 12,
        "P" => exponent10 += 15,
        "E" => exponent10 += 18,
        "Ki" => binary = 1 << 10,
        "Mi" => binary = 1 << 20,
        "Gi" => binary = 1 << 30,
        "Ti" => binary = 1 << 40,
        "Pi" => binary = 1 << 50,
        "Ei" => binary = 1 << 60,
        other => {
            let exp = other.strip_prefix(['e', 'E']).ok_or(QuantityError)?;
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(QuantityError);
            }
            exponent10 += exp.parse::<i32>().map_err(|_| QuantityError)?;
        }
    }
    // nanos = mantissa * binary * 10^(exponent10 + 9), rounded up when it is fractional.
    let scale = exponent10 + 9;
    let value = mantissa.checked_mul(binary).ok_or(QuantityError)?;
    let nanos = if scale >= 0 {
        if scale > 38 && value != 0 {
            return Err(QuantityError);
        }
        value.checked_mul(10i128.checked_pow(scale as u32).ok_or(QuantityError)?).ok_or(QuantityError)?
    } else if -scale > 38 {
        i128::from(value != 0)
    } else {
        ceil_div(value, 10i128.pow((-scale) as u32))
    };
    if nanos > LIMIT {
        return Err(QuantityError);
    }
    Ok(Quantity { nanos: if negative { -nanos } else { nanos } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, i64, i64)] = &[
            // text, millis, units
            ("100m", 100, 1),
            ("1", 1000, 1),
            ("1.5", 1500, 2),
            ("0.1", 100, 1),
            ("2", 2000, 2),
            ("128Mi", 128 * 1024 * 1024 * 1000, 128 * 1024 * 1024),
            ("1Gi", (1i64 << 30) * 1000, 1 << 30),
            ("1G", 1_000_000_000_000, 1_000_000_000),
            ("1k", 1_000_000, 1000),
            ("2e3", 2_000_000, 2000),
            ("1E-3", 1, 1),
            ("500u", 1, 1),
            ("250000000n", 250, 1),
            ("0", 0, 0),
            ("-1", -1000, -1),
            ("+5m", 5, 1),
            (".5", 500, 1),
        ];
        for (text, millis, units) in cases {
            let q = parse_quantity(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!((q.millis(), q.units()), (*millis, *units), "{text}");
        }
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "abc",
            "1x",
            "1.2.3",
            "--1",
            "1Kb",
            "e3",
            "1e",
            "1e+",
            "Mi",
            "1 Gi",
            "1e99999",
            "99999999999999999999999999999999999",
        ] {
            assert!(parse_quantity(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn arithmetic_and_display() {
        let a = parse_quantity("250m").unwrap();
        let b = parse_quantity("1.75").unwrap();
        assert_eq!(a.plus(b).to_string(), "2");
        assert_eq!(b.minus(a).to_string(), "1500m");
        assert!(a < b);
        assert_eq!(Quantity::from_millis(1500), parse_quantity("1.5").unwrap());
    }
}
