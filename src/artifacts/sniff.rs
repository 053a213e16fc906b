//! Which image an entry's bytes are, by their signature: Greenroom serves
//! an artifact's image only when its bytes are one of the four formats a
//! browser shows inline and nothing else, whatever its name claims. Four
//! fixed signatures are checked here rather than through a detection crate
//! that knows hundreds of formats we would then have to refuse.

/// The image formats served inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl Image {
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }
}

/// The image `bytes` are, if they are one Greenroom serves.
pub fn image(bytes: &[u8]) -> Option<Image> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Image::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Image::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(Image::Gif)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Image::Webp)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_four_signatures_are_images() {
        assert_eq!(image(b"\x89PNG\r\n\x1a\n...."), Some(Image::Png));
        assert_eq!(image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Image::Jpeg));
        assert_eq!(image(b"GIF89a..."), Some(Image::Gif));
        assert_eq!(image(b"RIFF\0\0\0\0WEBPVP8 "), Some(Image::Webp));
        assert_eq!(image(b"<svg xmlns=...>"), None);
        assert_eq!(image(b"<html><script>"), None);
        assert_eq!(image(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(image(b""), None);
    }
}
