//! `PUT /v1/memory/looks/{cast}/images`: a reference image of a cast member's look, uploaded by
//! its creator, kept in R2 under the creator's own prefix and recorded in the look's row.
//!
//! What is checked, before anything is stored:
//!
//! - the cast id is an identifier (as look keys are), else 400 naming `cast`;
//! - the body is at most [`MAX_REFERENCE_IMAGE_BYTES`] (the shell reads it as a stream under that
//!   cap and answers 413 past it);
//! - the bytes *are* a PNG, JPEG or WebP image, by their magic numbers ([`sniff_image`]); a
//!   `Content-Type` is only a claim: when one names a different image type, or anything but an
//!   image or `application/octet-stream`, the upload is refused naming `Content-Type`.
//!
//! Where it goes: `creators/{creator}/looks/{cast}/{sha256 prefix}.{ext}` ([`reference_key`]).
//! The name is the content's digest, so uploading the same image twice is one object and one
//! entry of `reference_images` ([`add_reference_image`] answers [`Added::AlreadyThere`]). The
//! key is under the creator's prefix, so only that creator's looks may name it
//! ([`crate::api::media::creator_owns_key`], checked again here), and only their renders sign
//! it for a provider. A look that does not exist yet is created with an empty description (its
//! images then carry the look; a description can be set with `PUT /v1/memory`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::api::media;
use crate::ids::CreatorId;
use crate::memory::edit::{MAX_LOOKS, MAX_REFERENCE_IMAGES, RowChange, RowKey};
use crate::memory::error::MemoryError;
use crate::memory::graph::{Look, MemoryGraph};
use crate::memory::json::ident;

/// The largest reference image accepted, bytes (10 MiB: providers fetch these by URL, and BFL
/// and Kling take images of a few megabytes)
pub const MAX_REFERENCE_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// An image format we accept as a reference
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageType {
    /// PNG: `89 50 4E 47 0D 0A 1A 0A`
    Png,
    /// JPEG: `FF D8 FF`
    Jpeg,
    /// WebP: `RIFF`, a length, `WEBP`
    Webp,
}

impl ImageType {
    /// Its MIME type
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }

    /// Its file extension
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
        }
    }
}

/// The image type the bytes are, by their magic numbers; `None` for anything else
pub fn sniff_image(bytes: &[u8]) -> Option<ImageType> {
    const PNG: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    if bytes.starts_with(&PNG) {
        return Some(ImageType::Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(ImageType::Jpeg);
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Some(ImageType::Webp);
    }
    None
}

/// Why an upload was refused; nothing was stored
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// The body is empty
    #[error("body: the image is empty")]
    Empty,
    /// The bytes are not a PNG, JPEG or WebP image
    #[error("body: not a PNG, JPEG or WebP image (its first bytes are neither)")]
    NotAnImage,
    /// `Content-Type` names something the bytes are not
    #[error("Content-Type: says {declared}, but the bytes are {actual}")]
    TypeMismatch {
        /// What the header said
        declared: String,
        /// What the bytes are
        actual: &'static str,
    },
    /// The cast id is not an identifier
    #[error("cast: {message}")]
    BadCast {
        /// Why
        message: String,
    },
    /// The creator id cannot name a key prefix
    #[error("creator {creator} has no media prefix")]
    NoPrefix {
        /// The creator
        creator: String,
    },
}

impl UploadError {
    /// The field the API's 400 names
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty | Self::NotAnImage | Self::NoPrefix { .. } => "body",
            Self::TypeMismatch { .. } => "Content-Type",
            Self::BadCast { .. } => "cast",
        }
    }
}

/// A checked upload: where it goes and what it is
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceUpload {
    /// The cast id
    pub cast_id: String,
    /// The R2 key, under the creator's prefix
    pub key: String,
    /// What the bytes are
    pub image: ImageType,
}

/// Checks an upload and names its key
///
/// # Errors
///
/// [`UploadError`] naming what is wrong; nothing may be stored then.
pub fn check_upload(
    creator: &CreatorId,
    cast_id: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<ReferenceUpload, UploadError> {
    let cast_id = ident(cast_id, "cast").map_err(|e| UploadError::BadCast {
        message: match e {
            MemoryError::Invalid { message, .. } => message,
            other => other.to_string(),
        },
    })?;
    if body.is_empty() {
        return Err(UploadError::Empty);
    }
    let image = sniff_image(body).ok_or(UploadError::NotAnImage)?;
    if let Some(declared) = content_type {
        let mime = declared
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let same =
            mime == image.content_type() || (mime == "image/jpg" && image == ImageType::Jpeg);
        if !mime.is_empty() && mime != "application/octet-stream" && !same {
            return Err(UploadError::TypeMismatch {
                declared: mime,
                actual: image.content_type(),
            });
        }
    }
    let key =
        reference_key(creator, &cast_id, image, body).ok_or_else(|| UploadError::NoPrefix {
            creator: creator.to_string(),
        })?;
    Ok(ReferenceUpload {
        cast_id,
        key,
        image,
    })
}

/// `creators/{creator}/looks/{cast}/{first 16 bytes of sha256, hex}.{ext}`; `None` when the
/// creator id cannot be a key segment
pub fn reference_key(
    creator: &CreatorId,
    cast_id: &str,
    image: ImageType,
    body: &[u8],
) -> Option<String> {
    let prefix = media::creator_prefix(creator)?;
    let digest = Sha256::digest(body);
    let name = hex::encode(digest.get(..16).unwrap_or(&digest));
    let key = format!("{prefix}looks/{cast_id}/{name}.{}", image.extension());
    media::creator_owns_key(creator, &key).then_some(key)
}

/// The answer to an upload: 201 when the image was added to the look, 200 when it was there
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LookImageStored {
    /// The cast id
    pub cast_id: String,
    /// The image's R2 key, under `creators/{your creator id}/looks/{cast}/`
    pub key: String,
    /// What the bytes are (`image/png`, `image/jpeg`, `image/webp`)
    pub content_type: String,
    /// Its size
    pub bytes: u64,
    /// Whether this upload added it (false: the look already had the same image)
    pub added: bool,
    /// The look's reference images after the upload
    pub reference_images: Vec<String>,
    /// A signed link to the image, valid for an hour; only this answer gives one
    pub url: String,
}

/// What recording an upload did
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Added {
    /// The key was added to the look (created if it was missing)
    Added,
    /// The look already had it (the same image uploaded again)
    AlreadyThere,
}

/// Records an uploaded key in the look of `cast_id`; returns what it did and the rows to
/// persist (none when the key was already there)
///
/// # Errors
///
/// [`MemoryError::Invalid`] naming the field, changing nothing, when the key is not the graph
/// owner's, the look already has [`MAX_REFERENCE_IMAGES`] images, or a new look would pass
/// [`MAX_LOOKS`].
pub fn add_reference_image(
    graph: &mut MemoryGraph,
    cast_id: &str,
    key: &str,
) -> Result<(Added, Vec<RowChange>), MemoryError> {
    let cast_id = ident(cast_id, "cast")?;
    let field = format!("looks.{cast_id}.reference_images");
    if !media::creator_owns_key(&graph.creator, key) {
        return Err(MemoryError::invalid(
            field,
            "must be one of your own uploads",
        ));
    }
    let looks = graph.looks.len();
    let change = vec![RowChange::Upsert(RowKey::Look(cast_id.clone()))];
    match graph.looks.iter_mut().find(|l| l.cast_id == cast_id) {
        Some(look) if look.reference_images.iter().any(|k| k == key) => {
            Ok((Added::AlreadyThere, Vec::new()))
        }
        Some(look) if look.reference_images.len() >= MAX_REFERENCE_IMAGES => {
            Err(MemoryError::invalid(
                field,
                format!(
                    "at most {MAX_REFERENCE_IMAGES} reference images per look: remove one with \
                     PUT /v1/memory first"
                ),
            ))
        }
        Some(look) => {
            look.reference_images.push(key.to_owned());
            Ok((Added::Added, change))
        }
        None if looks >= MAX_LOOKS => Err(MemoryError::invalid(
            "looks",
            format!("at most {MAX_LOOKS} looks"),
        )),
        None => {
            graph.looks.push(Look {
                cast_id,
                description: String::new(),
                reference_images: vec![key.to_owned()],
            });
            Ok((Added::Added, change))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];

    #[test]
    fn magic_bytes_decide_not_the_header() {
        assert_eq!(sniff_image(PNG), Some(ImageType::Png));
        assert_eq!(
            sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageType::Jpeg)
        );
        assert_eq!(
            sniff_image(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(ImageType::Webp)
        );
        assert_eq!(sniff_image(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(sniff_image(b"<svg xmlns="), None);
        let demo = CreatorId::from("demo");
        assert_eq!(
            check_upload(&demo, "keeper", Some("image/png"), b"GIF89a...").err(),
            Some(UploadError::NotAnImage)
        );
        assert!(matches!(
            check_upload(&demo, "keeper", Some("image/jpeg"), PNG),
            Err(UploadError::TypeMismatch { .. })
        ));
        let ok = check_upload(&demo, "keeper", None, PNG);
        assert!(
            ok.as_ref().is_ok_and(
                |u| u.key.starts_with("creators/demo/looks/keeper/") && u.key.ends_with(".png")
            ),
            "{ok:?}"
        );
    }
}
