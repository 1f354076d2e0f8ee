"""Embed an image or an audio file into the shared space and compare it with captions.

    python examples/embed_media.py photo.jpg "a dog" "a car"
    python examples/embed_media.py speech.wav "the weather" "football"
"""
import argparse
import mimetypes

import rosetta


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("captions", nargs="*", default=["a photo of a dog", "a photo of a car"])
    ap.add_argument("--address", default="127.0.0.1:50051")
    args = ap.parse_args()

    with rosetta.Client(args.address, timeout=60) as client:
        mime = mimetypes.guess_type(args.path)[0] or ""
        vector = client.embed_audio(args.path) if mime.startswith("audio/") else client.embed_image(args.path)
        for caption, text_vector in zip(args.captions, client.embed_text(args.captions)):
            print(f"{rosetta.cosine(vector, text_vector):.3f}  {caption}")


if __name__ == "__main__":
    main()
