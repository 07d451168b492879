//! `string_enum!`: closed sets of values with one text form each, for the wire and the store.

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(s))
            }

            /// The accepted values, for error messages.
            pub fn choices() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        // The schema lists the words the wire carries: utoipa's derive does not see a
        // `serde(rename)` whose text comes through a macro, and would list the variants.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::ALL.iter().map(|v| v.as_str())))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl $crate::Choice for $name {
            const WHAT: &'static str = stringify!($name);

            fn parse_choice(s: &str) -> Option<Self> {
                Self::parse(s)
            }

            fn choices() -> String {
                Self::choices()
            }
        }
    };
}

/// A closed set of values written as words (`flight`, `cancelled`): what a front door needs to
/// read one and to say which words it takes.
pub trait Choice: Sized {
    /// The type's name, for messages.
    const WHAT: &'static str;
    fn parse_choice(s: &str) -> Option<Self>;
    /// The accepted words, comma-separated.
    fn choices() -> String;
}
