#include "m2mfota/mcuboot.h"

#if MFOTA_MCUBOOT

#include <string.h>

#include "m2mfota/err.h"
#include "m2mfota/sha256.h"
#include "ascii.h"
#include "noinline.h"

#define HEADER_SIZE 32u
#define TLV_INFO_SIZE 4u
#define TRAILER_SPAN 48u /* swap_size .. magic: the fields this module reads or writes */

static const uint8_t boot_magic[16] = {0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
                                       0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80};

/* Where image bytes come from: a slot in flash or a buffer. */
struct source {
    int (*read)(void *ctx, uint32_t off, void *buf, size_t len);
    void *ctx;
    uint32_t base;
    uint32_t limit;
};

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int src_read(const struct source *s, uint32_t off, void *buf, uint32_t len)
{
    if (off > s->limit || len > s->limit - off) {
        return MFOTA_ERR_MCUBOOT_HEADER;
    }
    return s->read(s->ctx, s->base + off, buf, len);
}

/* One TLV area being walked: entries from pos up to end.  The one walker of
 * the module: the image check and the signature check both go through it,
 * so both get the same bounds. */
struct tlv_walk {
    uint32_t pos, end;
    uint32_t at;     /* the current entry's value offset */
    uint16_t type;   /* and its type */
    uint16_t len;    /* and length */
};

/* Open the TLV area at `off`: its info header must carry `magic` and, when
 * `tot` is not 0, that total size.  The area's size is returned in *size. */
static int tlv_open(const struct source *s, struct tlv_walk *w, uint32_t off, uint16_t magic,
                    uint32_t tot, uint32_t *size)
{
    uint8_t hdr[4];
    int rc;
    if (off > s->limit || s->limit - off < TLV_INFO_SIZE) {
        return MFOTA_ERR_MCUBOOT_TLV;
    }
    rc = src_read(s, off, hdr, 4);
    if (rc < 0) {
        return rc;
    }
    *size = le16(hdr + 2);
    if (le16(hdr) != magic || (tot != 0u && *size != tot) || *size < TLV_INFO_SIZE ||
        *size > s->limit - off) {
        return MFOTA_ERR_MCUBOOT_TLV;
    }
    w->pos = off + TLV_INFO_SIZE;
    w->end = off + *size;
    return MFOTA_OK;
}

/* The next entry: 1 with its type, length and value offset in w, 0 at the
 * end of the area, or an error for an entry that does not fit it. */
static int tlv_next(const struct source *s, struct tlv_walk *w)
{
    uint8_t hdr[4];
    int rc;
    if (w->pos >= w->end) {
        return 0;
    }
    if (w->end - w->pos < 4u) {
        return MFOTA_ERR_MCUBOOT_TLV;
    }
    rc = src_read(s, w->pos, hdr, 4);
    if (rc < 0) {
        return rc;
    }
    w->type = le16(hdr);
    w->len = le16(hdr + 2);
    if (w->len > w->end - w->pos - 4u) {
        return MFOTA_ERR_MCUBOOT_TLV;
    }
    w->at = w->pos + 4u;
    w->pos = w->at + w->len;
    return 1;
}

/* Check the image and describe it in *img, which is written on failure too:
 * verify() hands its copy out only on success. */
static int check(const struct source *s, struct mfota_mcuboot_image *img)
{
    uint8_t h[HEADER_SIZE], chunk[MFOTA_FLASH_READ_CHUNK], digest[32];
    struct mfota_sha256 sha;
    struct tlv_walk w;
    uint32_t end, hashed, off, hash_off = 0, tlv_tot;
    int rc;

    memset(img, 0, sizeof *img);
    if (s->limit < HEADER_SIZE) {
        return MFOTA_ERR_MCUBOOT_MAGIC;
    }
    rc = src_read(s, 0, h, HEADER_SIZE);
    if (rc < 0) {
        return rc;
    }
    if (le32(h) != MFOTA_MCUBOOT_IMAGE_MAGIC) {
        return MFOTA_ERR_MCUBOOT_MAGIC;
    }
    img->load_addr = le32(h + 4);
    img->header_size = le16(h + 8);
    img->protect_tlv_size = le16(h + 10);
    img->image_size = le32(h + 12);
    img->flags = le32(h + 16);
    img->major = h[20];
    img->minor = h[21];
    img->revision = le16(h + 22);
    img->build = le32(h + 24);
    if (img->header_size < HEADER_SIZE || img->image_size > s->limit ||
        img->header_size > s->limit - img->image_size) {
        return MFOTA_ERR_MCUBOOT_HEADER;
    }
    end = img->header_size + img->image_size;
    if (img->protect_tlv_size != 0u) {
        rc = tlv_open(s, &w, end, MFOTA_MCUBOOT_TLV_PROT_INFO_MAGIC, img->protect_tlv_size,
                      &tlv_tot);
        while (rc >= 0 && (rc = tlv_next(s, &w)) > 0) {
            if (w.type == MFOTA_MCUBOOT_TLV_SHA256) {
                rc = MFOTA_ERR_MCUBOOT_TLV; /* the hash is never protected */
            }
        }
        if (rc < 0) {
            return rc;
        }
    }
    hashed = end + img->protect_tlv_size;
    rc = tlv_open(s, &w, hashed, MFOTA_MCUBOOT_TLV_INFO_MAGIC, 0, &tlv_tot);
    while (rc >= 0 && (rc = tlv_next(s, &w)) > 0) {
        if (w.type == MFOTA_MCUBOOT_TLV_SHA256) {
            if (w.len != 32u || hash_off != 0u) {
                return MFOTA_ERR_MCUBOOT_TLV; /* misfit or repeated */
            }
            hash_off = w.at;
        }
    }
    if (rc < 0) {
        return rc;
    }
    if (hash_off == 0u) {
        return MFOTA_ERR_MCUBOOT_NO_HASH;
    }
    rc = src_read(s, hash_off, img->sha256, 32);
    if (rc < 0) {
        return rc;
    }
    mfota_sha256_init(&sha);
    for (off = 0; off < hashed;) {
        uint32_t n = hashed - off < (uint32_t)sizeof chunk ? hashed - off : (uint32_t)sizeof chunk;
        rc = src_read(s, off, chunk, n);
        if (rc < 0) {
            return rc;
        }
        mfota_sha256_update(&sha, chunk, n);
        off += n;
    }
    mfota_sha256_final(&sha, digest);
    if (memcmp(digest, img->sha256, 32) != 0) {
        return MFOTA_ERR_MCUBOOT_HASH;
    }
    img->total_size = hashed + tlv_tot;
    return MFOTA_OK;
}

int mfota_mcuboot_check(const struct mfota_flash *flash, uint32_t limit,
                        struct mfota_mcuboot_image *out)
{
    return mfota_mcuboot_verify(flash, limit, NULL, out); /* no keys: header, TLVs, hash */
}

struct mem {
    const uint8_t *p;
};

static int mem_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    memcpy(buf, ((const struct mem *)ctx)->p + off, len);
    return 0;
}

int mfota_mcuboot_check_mem(const void *image, size_t len, struct mfota_mcuboot_image *out)
{
    return mfota_mcuboot_verify_mem(image, len, NULL, out);
}

/* ---- signatures ------------------------------------------------------------ */

/* Longest signature TLV read: a DER ECDSA P-256 signature is at most 72
 * bytes (imgtool may pad it to that), Ed25519 is 64. */
#define SIG_MAX 80u

static int sig_alg_of(uint16_t type)
{
    if (type == MFOTA_MCUBOOT_TLV_ECDSA_SIG) {
        return MFOTA_SIG_ECDSA_P256;
    }
    if (type == MFOTA_MCUBOOT_TLV_ED25519) {
        return MFOTA_SIG_ED25519;
    }
    return 0;
}

/* Try one signature against every trusted key of its algorithm (only the
 * one whose SHA-256 is `keyhash`, when given).  0: one verified;
 * MFOTA_ERR_MCUBOOT_SIG: none did; other negative: the verifier failed. */
static int try_keys(const struct mfota_mcuboot_trust *t, int alg, const uint8_t *keyhash,
                    const uint8_t hash[32], const uint8_t *sig, size_t sig_len)
{
    size_t i;
    if (alg == MFOTA_SIG_ECDSA_P256 && sig_len >= 2u && sig[0] == 0x30u && sig[1] < 0x80u &&
        (size_t)sig[1] + 2u <= sig_len) {
        /* imgtool --pad-sig appends zeros after the DER SEQUENCE. */
        sig_len = (size_t)sig[1] + 2u;
    }
    for (i = 0; i < t->n_keys; i++) {
        const struct mfota_sig_key *k = &t->keys[i];
        int rc;
        if (k->alg != alg || k->der == NULL) {
            continue;
        }
        if (keyhash != NULL) {
            uint8_t kh[32];
            mfota_sha256(k->der, k->der_len, kh);
            if (memcmp(kh, keyhash, 32) != 0) {
                continue;
            }
        }
        rc = t->verifier->verify(t->verifier->ctx, alg, k->der, k->der_len, hash, sig, sig_len);
        if (rc == MFOTA_OK) {
            return MFOTA_OK;
        }
        if (rc != MFOTA_ERR_MCUBOOT_SIG && rc != MFOTA_ERR_UNSUPPORTED) {
            return rc < 0 ? rc : MFOTA_ERR_MCUBOOT_SIG;
        }
    }
    return MFOTA_ERR_MCUBOOT_SIG;
}

/* Walk the (unprotected) TLV area of a checked image for signatures. */
static int check_sigs(const struct source *s, const struct mfota_mcuboot_image *img,
                      const struct mfota_mcuboot_trust *t)
{
    uint8_t keyhash[32], sig[SIG_MAX];
    struct tlv_walk w;
    uint32_t size;
    int have_keyhash = 0, seen_sig = 0, rc;

    rc = tlv_open(s, &w, img->header_size + img->image_size + img->protect_tlv_size,
                  MFOTA_MCUBOOT_TLV_INFO_MAGIC, 0, &size);
    while (rc >= 0 && (rc = tlv_next(s, &w)) > 0) {
        int alg = sig_alg_of(w.type);
        if (w.type == MFOTA_MCUBOOT_TLV_KEYHASH) {
            have_keyhash = w.len == 32u;
            if (have_keyhash) {
                rc = src_read(s, w.at, keyhash, 32);
            }
        } else if (alg != 0) {
            seen_sig = 1;
            if (w.len > 0u && w.len <= SIG_MAX) { /* anything else cannot verify */
                rc = src_read(s, w.at, sig, w.len);
                if (rc >= 0) {
                    rc = try_keys(t, alg, have_keyhash ? keyhash : NULL, img->sha256, sig,
                                  w.len);
                    if (rc != MFOTA_ERR_MCUBOOT_SIG) {
                        return rc; /* verified, or the verifier failed */
                    }
                    rc = MFOTA_OK; /* another signature TLV may verify */
                }
            }
        }
    }
    if (rc < 0) {
        return rc;
    }
    return seen_sig ? MFOTA_ERR_MCUBOOT_SIG : MFOTA_ERR_MCUBOOT_NO_SIG;
}

static int verify(const struct source *s, const struct mfota_mcuboot_trust *t,
                  struct mfota_mcuboot_image *out)
{
    struct mfota_mcuboot_image img;
    int rc;
    if (t != NULL && t->n_keys > 0u &&
        (t->keys == NULL || t->verifier == NULL || t->verifier->verify == NULL)) {
        return MFOTA_ERR_INVAL;
    }
    rc = check(s, &img);
    if (rc < 0) {
        return rc;
    }
    if (t != NULL && t->n_keys > 0u) {
        rc = check_sigs(s, &img, t);
        if (rc < 0) {
            return rc;
        }
    }
    if (out != NULL) {
        *out = img;
    }
    return MFOTA_OK;
}

int mfota_mcuboot_verify(const struct mfota_flash *flash, uint32_t limit,
                         const struct mfota_mcuboot_trust *trust,
                         struct mfota_mcuboot_image *out)
{
    struct source s;
    if (flash == NULL || flash->read == NULL) {
        return MFOTA_ERR_INVAL;
    }
    s.read = flash->read;
    s.ctx = flash->ctx;
    s.base = flash->slot_offset;
    s.limit = limit < flash->slot_size ? limit : flash->slot_size;
    return verify(&s, trust, out);
}

int mfota_mcuboot_verify_mem(const void *image, size_t len,
                             const struct mfota_mcuboot_trust *trust,
                             struct mfota_mcuboot_image *out)
{
    struct mem m;
    struct source s;
    if (image == NULL && len > 0) {
        return MFOTA_ERR_INVAL;
    }
    m.p = (const uint8_t *)image;
    s.read = mem_read;
    s.ctx = &m;
    s.base = 0;
    s.limit = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    return verify(&s, trust, out);
}

int mfota_mcuboot_version_string(const struct mfota_mcuboot_image *img, char *buf, size_t cap)
{
    char tmp[48];
    size_t n = 0;
    if (img == NULL || buf == NULL) {
        return MFOTA_ERR_INVAL;
    }
    n += mfota_ascii_put_uint_(tmp + n, img->major);
    tmp[n++] = '.';
    n += mfota_ascii_put_uint_(tmp + n, img->minor);
    tmp[n++] = '.';
    n += mfota_ascii_put_uint_(tmp + n, img->revision);
    tmp[n++] = '+';
    n += mfota_ascii_put_uint_(tmp + n, img->build);
    if (n + 1u > cap) {
        return MFOTA_ERR_NOSPC;
    }
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return (int)n;
}

/* Out of line (noinline.h): two callers, one in a loop; copies cost more. */
MFOTA_NOINLINE_ static int all_erased(const uint8_t *p, size_t n, uint8_t erased)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (p[i] != erased) {
            return 0;
        }
    }
    return 1;
}

/* Program `len` bytes (a trailer field: 8, or 16 for the magic; program_size
 * <= 8) at `off` from the slot end, and read them back. */
static int put_field(const struct mfota_flash *f, uint32_t off, const uint8_t *block, size_t len)
{
    uint8_t back[16];
    uint32_t at = f->slot_offset + f->slot_size - off;
    int rc = f->program(f->ctx, at, block, len);
    if (rc < 0) {
        return rc;
    }
    rc = f->read(f->ctx, at, back, len);
    if (rc < 0) {
        return rc;
    }
    return memcmp(block, back, len) == 0 ? MFOTA_OK : MFOTA_ERR_FLASH_VERIFY;
}

static int trailer_sector(const struct mfota_flash *f, uint32_t *sector_off)
{
    uint32_t t = f->slot_size - TRAILER_SPAN;
    *sector_off = t - t % f->sector_size;
    return MFOTA_OK;
}

/* The trailer span, TRAILER_SPAN bytes before the slot end, is five fields:
 * swap_size, swap_info, copy_done, image_ok (8 bytes each) and the magic
 * (16): the length of the field at index i of the span. */
static size_t field_len(size_t i)
{
    return i < TRAILER_SPAN - 16u ? 8u : 16u;
}

int mfota_mcuboot_mark_pending(const struct mfota_flash *f, uint32_t image_size, int permanent)
{
    uint8_t trailer[TRAILER_SPAN], want[TRAILER_SPAN];
    size_t i;
    uint32_t sector;
    int rc = mfota_flash_check(f), clash = 0;
    if (rc != MFOTA_OK) {
        return rc;
    }
    if (f->program_size > MFOTA_MCUBOOT_MAX_ALIGN || f->slot_size < TRAILER_SPAN ||
        image_size > f->slot_size - TRAILER_SPAN) {
        return MFOTA_ERR_MCUBOOT_TRAILER;
    }
    /* The span as it must end up: swap type, image_ok when permanent, magic;
     * every other byte erased. */
    memset(want, f->erased_value, sizeof want);
    want[TRAILER_SPAN - MFOTA_MCUBOOT_SWAP_INFO_OFF] =
        (uint8_t)(permanent ? MFOTA_MCUBOOT_SWAP_TYPE_PERM : MFOTA_MCUBOOT_SWAP_TYPE_TEST);
    if (permanent) {
        want[TRAILER_SPAN - MFOTA_MCUBOOT_IMAGE_OK_OFF] = 0x01;
    }
    memcpy(want + TRAILER_SPAN - MFOTA_MCUBOOT_MAGIC_OFF, boot_magic, sizeof boot_magic);

    rc = f->read(f->ctx, f->slot_offset + f->slot_size - TRAILER_SPAN, trailer, TRAILER_SPAN);
    if (rc < 0) {
        return rc;
    }
    /* A field neither erased nor as wanted (an old trailer, a torn write, a
     * value in a field we leave erased) means erase first. */
    for (i = 0; i < TRAILER_SPAN; i += field_len(i)) {
        clash |= memcmp(trailer + i, want + i, field_len(i)) != 0 &&
                 !all_erased(trailer + i, field_len(i), f->erased_value);
    }
    if (clash) {
        trailer_sector(f, &sector);
        if (image_size > sector) {
            return MFOTA_ERR_MCUBOOT_TRAILER; /* erasing would destroy the image */
        }
        rc = f->erase(f->ctx, f->slot_offset + sector);
        if (rc < 0) {
            return rc;
        }
        memset(trailer, f->erased_value, sizeof trailer);
    }
    /* In span order: the magic last, which makes the request atomic
     * (MCUboot's own order would work too). */
    for (i = 0; i < TRAILER_SPAN; i += field_len(i)) {
        if (memcmp(trailer + i, want + i, field_len(i)) != 0) {
            rc = put_field(f, (uint32_t)(TRAILER_SPAN - i), want + i, field_len(i));
            if (rc < 0) {
                return rc;
            }
        }
    }
    return MFOTA_OK;
}

int mfota_mcuboot_clear_pending(const struct mfota_flash *f)
{
    uint8_t trailer[TRAILER_SPAN];
    uint32_t sector;
    int rc = mfota_flash_check(f);
    if (rc != MFOTA_OK) {
        return rc;
    }
    if (f->slot_size < TRAILER_SPAN) {
        return MFOTA_ERR_MCUBOOT_TRAILER;
    }
    rc = f->read(f->ctx, f->slot_offset + f->slot_size - TRAILER_SPAN, trailer, TRAILER_SPAN);
    if (rc < 0 || all_erased(trailer, TRAILER_SPAN, f->erased_value)) {
        return rc < 0 ? rc : MFOTA_OK;
    }
    trailer_sector(f, &sector);
    return f->erase(f->ctx, f->slot_offset + sector);
}

int mfota_mcuboot_confirm(const struct mfota_flash *f)
{
    uint8_t magic[16], ok[8];
    int rc = mfota_flash_check(f);
    if (rc != MFOTA_OK) {
        return rc;
    }
    if (f->program_size > MFOTA_MCUBOOT_MAX_ALIGN || f->slot_size < TRAILER_SPAN) {
        return MFOTA_ERR_MCUBOOT_TRAILER;
    }
    rc = f->read(f->ctx, f->slot_offset + f->slot_size - MFOTA_MCUBOOT_MAGIC_OFF, magic, 16);
    if (rc < 0) {
        return rc;
    }
    if (memcmp(magic, boot_magic, 16) != 0) {
        return MFOTA_OK; /* no trailer: MCUboot did not boot this image for a test */
    }
    rc = f->read(f->ctx, f->slot_offset + f->slot_size - MFOTA_MCUBOOT_IMAGE_OK_OFF, ok, 8);
    if (rc < 0) {
        return rc;
    }
    if (ok[0] == 0x01) {
        return MFOTA_OK;
    }
    if (ok[0] != f->erased_value) {
        return MFOTA_ERR_BOOT_STATE;
    }
    memset(ok, f->erased_value, sizeof ok);
    ok[0] = 0x01;
    return put_field(f, MFOTA_MCUBOOT_IMAGE_OK_OFF, ok, sizeof ok);
}

static int bl_mark_pending(void *ctx, uint32_t image_size, int permanent)
{
    const struct mfota_mcuboot_port *p = (const struct mfota_mcuboot_port *)ctx;
    return mfota_mcuboot_mark_pending(p->secondary, image_size, permanent);
}

static int bl_check_image(void *ctx, uint32_t image_size, char *version, size_t cap)
{
    const struct mfota_mcuboot_port *p = (const struct mfota_mcuboot_port *)ctx;
    struct mfota_mcuboot_image img;
    int rc = mfota_mcuboot_verify(p->secondary, image_size, &p->trust, &img);
    if (rc < 0) {
        return rc;
    }
    if (version != NULL && cap > 0u) {
        rc = mfota_mcuboot_version_string(&img, version, cap);
        if (rc < 0) {
            version[0] = '\0';
        } else if (img.build == 0u && rc >= 2) {
            version[rc - 2] = '\0'; /* "1.2.3+0" is "1.2.3" to imgtool and fleet tools */
        }
    }
    return MFOTA_OK;
}

static int bl_confirm(void *ctx)
{
    return mfota_mcuboot_confirm(((const struct mfota_mcuboot_port *)ctx)->primary);
}

static int bl_running_version(void *ctx, char *buf, size_t cap)
{
    const struct mfota_flash *f = ((const struct mfota_mcuboot_port *)ctx)->primary;
    struct mfota_mcuboot_image img;
    int rc = mfota_mcuboot_check(f, f->slot_size, &img);
    if (rc < 0) {
        return rc;
    }
    return mfota_mcuboot_version_string(&img, buf, cap);
}

void mfota_mcuboot_bootloader(struct mfota_bootloader *bl, const struct mfota_mcuboot_port *port)
{
    bl->mark_pending = bl_mark_pending;
    bl->confirm = bl_confirm;
    bl->running_version = bl_running_version;
    bl->check_image = bl_check_image;
    bl->ctx = (void *)(uintptr_t)port;
}

#else
/* ISO C forbids an empty translation unit. */
typedef int mfota_mcuboot_disabled;
#endif /* MFOTA_MCUBOOT */
