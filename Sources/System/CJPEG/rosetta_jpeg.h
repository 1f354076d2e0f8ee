#pragma once
/* rosetta_jpeg_decode: one-call JPEG -> RGB8 decode over libjpeg(-turbo), with libjpeg's fatal errors turned
 * into a return code. libjpeg reports fatal errors by calling error_exit, which must not return; the only
 * portable way out is longjmp, and Swift cannot setjmp — so the whole decode runs here, in C.
 *
 *   unsigned char *rgb; int w, h; char msg[JMSG_LENGTH_MAX];
 *   int rc = rosetta_jpeg_decode(data, size, 40000000UL, &rgb, &w, &h, msg);
 *   if (rc == ROSETTA_JPEG_OK) { ... use rgb (w*h*3 bytes, row-major) ...; free(rgb); }
 *
 * Returns ROSETTA_JPEG_OK; ROSETTA_JPEG_ERROR (corrupt, truncated or unsupported: `message` says why);
 * ROSETTA_JPEG_TOO_LARGE (header read, width*height > max_pixels: nothing decoded, `*width`/`*height` set).
 * Ownership: on OK the caller frees `*rgb` with free(). Thread-safety: reentrant (no shared state).
 * A file that ends early is an error (libjpeg would otherwise pad it with grey and warn). */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <jpeglib.h>
#include <jerror.h>

enum { ROSETTA_JPEG_OK = 0, ROSETTA_JPEG_ERROR = 1, ROSETTA_JPEG_TOO_LARGE = 2 };

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char *message;
    int truncated;
} rosetta_jpeg_error_mgr;

static void rosetta_jpeg_error_exit(j_common_ptr cinfo) {
    rosetta_jpeg_error_mgr *err = (rosetta_jpeg_error_mgr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void rosetta_jpeg_emit_message(j_common_ptr cinfo, int level) {
    rosetta_jpeg_error_mgr *err = (rosetta_jpeg_error_mgr *)cinfo->err;
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) err->truncated = 1;
}

/* The error manager both calls use: libjpeg's standard one, whose fatal errors write `message` and longjmp. */
static inline struct jpeg_error_mgr *rosetta_jpeg_errors(rosetta_jpeg_error_mgr *err, char *message) {
    struct jpeg_error_mgr *pub = jpeg_std_error(&err->pub);
    err->pub.error_exit = rosetta_jpeg_error_exit;
    err->message = message;
    err->truncated = 0;
    message[0] = 0;
    return pub;
}

static inline int rosetta_jpeg_decode(const unsigned char *data, unsigned long size, unsigned long max_pixels,
                                      unsigned char **rgb, int *width, int *height, char *message) {
    struct jpeg_decompress_struct cinfo;
    rosetta_jpeg_error_mgr err;
    unsigned char *volatile out = NULL;
    *rgb = NULL;
    *width = *height = 0;
    cinfo.err = rosetta_jpeg_errors(&err, message);
    err.pub.emit_message = rosetta_jpeg_emit_message;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(out);
        return ROSETTA_JPEG_ERROR;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);
    *width = (int)cinfo.image_width;
    *height = (int)cinfo.image_height;
    if ((unsigned long long)cinfo.image_width * cinfo.image_height > max_pixels) {
        jpeg_destroy_decompress(&cinfo);
        return ROSETTA_JPEG_TOO_LARGE;
    }
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * 3;
    out = (unsigned char *)malloc(stride * cinfo.output_height);
    if (!out) {
        snprintf(message, JMSG_LENGTH_MAX, "out of memory for %ux%u pixels", cinfo.output_width, cinfo.output_height);
        jpeg_destroy_decompress(&cinfo);
        return ROSETTA_JPEG_ERROR;
    }
    while (cinfo.output_scanline < cinfo.output_height && !err.truncated) {
        JSAMPROW row = out + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    if (err.truncated) {
        snprintf(message, JMSG_LENGTH_MAX, "the JPEG data ends before the image does (truncated file)");
        jpeg_destroy_decompress(&cinfo);
        free(out);
        return ROSETTA_JPEG_ERROR;
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    *rgb = out;
    return ROSETTA_JPEG_OK;
}

/* rosetta_jpeg_encode: RGB8 (width*height*3 bytes, row-major) -> a baseline JPEG in memory, 4:2:0, at `quality`
 * (1-100), with libjpeg's fatal errors turned into a return code as above.
 *
 *   unsigned char *jpeg = NULL; unsigned long size = 0; char msg[JMSG_LENGTH_MAX];
 *   if (rosetta_jpeg_encode(rgb, w, h, 80, &jpeg, &size, msg) == ROSETTA_JPEG_OK) { ...; free(jpeg); }
 *
 * Returns ROSETTA_JPEG_OK or ROSETTA_JPEG_ERROR (`message` says why). Ownership: on OK the caller frees `*jpeg`
 * with free() (jpeg_mem_dest allocates it with malloc); on error nothing is left to free. Reentrant. */
static inline int rosetta_jpeg_encode(const unsigned char *rgb, int width, int height, int quality,
                                      unsigned char **jpeg, unsigned long *size, char *message) {
    struct jpeg_compress_struct cinfo;
    rosetta_jpeg_error_mgr err;
    unsigned char *volatile out = NULL;
    unsigned long out_size = 0;
    *jpeg = NULL;
    *size = 0;
    cinfo.err = rosetta_jpeg_errors(&err, message);
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(out);
        return ROSETTA_JPEG_ERROR;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&out, &out_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *jpeg = out;
    *size = out_size;
    return ROSETTA_JPEG_OK;
}
