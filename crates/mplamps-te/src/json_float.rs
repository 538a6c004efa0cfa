//! Power ratios travel as 4-octet IEEE floats (draft §2.4.2), so their f64 copies carry
//! digits the wire never had: 2.0 advertised is 2.0000000596046448 widened. Reports print
//! such values at the precision they have: whole numbers as they are (IGP costs), others
//! as the shortest text of the 4-octet float.

use serde::Serializer;

/// Serializes `value` at the precision of the wire (see the module doc).
pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    let v = *value;
    let fits = v.is_finite() && v.abs() <= f64::from(f32::MAX);
    if v.fract() == 0.0 || !fits {
        serializer.serialize_f64(v)
    } else {
        serializer.serialize_f32(v as f32)
    }
}

/// `serialize` for optional values.
pub mod option {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => super::serialize(v, serializer),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize)]
    struct Sample {
        #[serde(serialize_with = "super::serialize")]
        ratio: f64,
        #[serde(serialize_with = "super::serialize")]
        cost: f64,
        #[serde(serialize_with = "super::option::serialize")]
        missing: Option<f64>,
        #[serde(serialize_with = "super::option::serialize")]
        present: Option<f64>,
    }

    #[test]
    fn wire_values_print_without_widening_noise() {
        let sample = Sample {
            ratio: f64::from(2.0f32 + f32::EPSILON * 2.0) / 1.0,
            cost: 123_456_789.0,
            missing: None,
            present: Some(f64::from(0.6666667f32)),
        };
        let text = serde_json::to_string(&sample).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"ratio":2.0000002,"cost":123456789.0,"missing":null,"present":0.6666667}"#
        );
    }
}
