// SPDX-License-Identifier: MIT
/*
 * The Noise machinery against the cacophony vectors (tests/vectors/
 * noise-cacophony-ik.json): both sides of IK and IKpsk2 over ChaChaPoly and
 * AESGCM with BLAKE2s, message bytes, payloads, the handshake hash, and the
 * transport messages under the split() keys. Then the symmetric state's
 * rules on their own, and tampered messages.
 */
#include "unit.h"

#include "crypto.h"
#include "noise.h"

/* ---- A small JSON reader: objects, arrays and strings, which is all the
 * vector file holds. ---------------------------------------------------- */

enum json_type { JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	char *key;          /* the member name, inside an object */
	char *string;       /* JSON_STRING */
	struct json *child; /* first element or member */
	struct json *next;  /* next sibling */
};

static void json_free(struct json *j)
{
	while (j) {
		struct json *next = j->next;

		json_free(j->child);
		free(j->key);
		free(j->string);
		free(j);
		j = next;
	}
}

static void skip_space(const char **p)
{
	while (**p == ' ' || **p == '\n' || **p == '\r' || **p == '\t')
		(*p)++;
}

/* A string without escapes other than \" and \\ (the file has none). */
static char *parse_string(const char **p)
{
	const char *start;
	char *out, *o;

	if (**p != '"')
		return NULL;
	start = ++*p;
	while (**p && **p != '"')
		*p += (**p == '\\' && (*p)[1]) ? 2 : 1;
	if (**p != '"')
		return NULL;
	out = o = malloc((size_t)(*p - start) + 1);
	assert_non_null(out);
	for (const char *s = start; s < *p; s++) {
		if (*s == '\\')
			s++;
		*o++ = *s;
	}
	*o = '\0';
	(*p)++;
	return out;
}

static struct json *parse_value(const char **p, int depth);

/* The elements of an array or the members of an object, up to `close`. */
static bool parse_children(const char **p, struct json *parent, char close, int depth)
{
	struct json **tail = &parent->child;

	(*p)++;
	skip_space(p);
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		char *key = NULL;
		struct json *child;

		skip_space(p);
		if (close == '}') {
			if (!(key = parse_string(p)))
				return false;
			skip_space(p);
			if (**p != ':') {
				free(key);
				return false;
			}
			(*p)++;
		}
		if (!(child = parse_value(p, depth + 1))) {
			free(key);
			return false;
		}
		child->key = key;
		*tail = child;
		tail = &child->next;
		skip_space(p);
		if (**p == ',') {
			(*p)++;
			continue;
		}
		if (**p != close)
			return false;
		(*p)++;
		return true;
	}
}

static struct json *parse_value(const char **p, int depth)
{
	struct json *j;

	skip_space(p);
	if (depth > 16)
		return NULL;
	j = calloc(1, sizeof(*j));
	assert_non_null(j);
	if (**p == '"') {
		j->type = JSON_STRING;
		if ((j->string = parse_string(p)))
			return j;
	} else if (**p == '[' || **p == '{') {
		j->type = **p == '[' ? JSON_ARRAY : JSON_OBJECT;
		if (parse_children(p, j, **p == '[' ? ']' : '}', depth))
			return j;
	}
	json_free(j);
	return NULL;
}

static struct json *json_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct json *root;
	const char *p;
	char *text;
	long size;

	if (!f)
		fail_msg("cannot open %s (run the tests from the repository root or set SLUICE_VECTORS)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	text = malloc((size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
	text[size] = '\0';
	fclose(f);
	p = text;
	root = parse_value(&p, 0);
	skip_space(&p);
	if (!root || *p)
		fail_msg("%s is not JSON this reader understands (near offset %ld)", path, (long)(p - text));
	free(text);
	return root;
}

static const struct json *json_get(const struct json *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (const struct json *m = obj->child; m; m = m->next)
		if (!strcmp(m->key, key))
			return m;
	return NULL;
}

static const char *json_string(const struct json *obj, const char *key)
{
	const struct json *v = json_get(obj, key);

	return v && v->type == JSON_STRING ? v->string : NULL;
}

/* ---- The vectors ------------------------------------------------------ */

struct bytes {
	uint8_t b[512];
	size_t len;
};

/* Decodes the hex string field `key` of obj, which must be there. */
static void field(struct bytes *out, const struct json *obj, const char *key)
{
	const char *h = json_string(obj, key);
	int n;

	if (!h)
		fail_msg("vector field \"%s\" is missing", key);
	n = unit_hex(out->b, sizeof(out->b), h);
	if (n < 0)
		fail_msg("vector field \"%s\" is not hex of at most %zu bytes", key, sizeof(out->b));
	out->len = (size_t)n;
}

static void field_key(uint8_t out[32], const struct json *obj, const char *key)
{
	struct bytes b;

	field(&b, obj, key);
	assert_int_equal(b.len, 32);
	memcpy(out, b.b, 32);
}

/* The only psk of an IKpsk2 vector; false for a plain IK vector. */
static bool vector_psk(uint8_t psk[32], const struct json *v, const char *key)
{
	const struct json *list = json_get(v, key);
	int n;

	if (!list)
		return false;
	assert_int_equal(list->type, JSON_ARRAY);
	assert_non_null(list->child);
	assert_null(list->child->next);
	assert_int_equal(list->child->type, JSON_STRING);
	n = unit_hex(psk, 32, list->child->string);
	assert_int_equal(n, 32);
	return true;
}

static const char *const wanted[] = {
	"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s",
	"Noise_IK_25519_ChaChaPoly_BLAKE2s",
	"Noise_IKpsk2_25519_AESGCM_BLAKE2s",
	"Noise_IK_25519_AESGCM_BLAKE2s",
};
enum { WANTED = sizeof(wanted) / sizeof(wanted[0]) };

/* Both sides, their keys and their states, as the vector sets them up. */
struct party {
	struct noise_symmetric sym;
	uint8_t s_priv[32], s_pub[32], e_priv[32];
	struct crypto_x25519_key s_key; /* s_priv in libcrypto */
	uint8_t psk[32];
	bool has_psk;
};

struct handshake {
	const char *name;
	enum cipher_suite suite;
	struct party init, resp;
	uint8_t resp_s_pub[32]; /* init_remote_static */
};

static void handshake_setup(struct handshake *hs, const struct json *v)
{
	struct bytes prologue;

	memset(hs, 0, sizeof(*hs));
	hs->name = json_string(v, "protocol_name");
	hs->suite = strstr(hs->name, "_AESGCM_") ? SUITE_AESGCM : SUITE_CHACHAPOLY;
	field_key(hs->init.s_priv, v, "init_static");
	field_key(hs->init.e_priv, v, "init_ephemeral");
	field_key(hs->resp_s_pub, v, "init_remote_static");
	field_key(hs->resp.s_priv, v, "resp_static");
	field_key(hs->resp.e_priv, v, "resp_ephemeral");
	hs->init.has_psk = vector_psk(hs->init.psk, v, "init_psks");
	hs->resp.has_psk = vector_psk(hs->resp.psk, v, "resp_psks");
	assert_int_equal(hs->init.has_psk, strstr(hs->name, "psk2") != NULL);
	assert_int_equal(hs->resp.has_psk, hs->init.has_psk);
	assert_true(crypto_x25519_public(hs->init.s_pub, hs->init.s_priv));
	assert_true(crypto_x25519_public(hs->resp.s_pub, hs->resp.s_priv));
	assert_true(crypto_x25519_key_init(&hs->init.s_key, hs->init.s_priv));
	assert_true(crypto_x25519_key_init(&hs->resp.s_key, hs->resp.s_priv));
	assert_memory_equal(hs->init.s_key.pub, hs->init.s_pub, 32);
	assert_memory_equal(hs->resp.s_key.pub, hs->resp.s_pub, 32);
	/* The vector's idea of the responder's public key is ours. */
	assert_memory_equal(hs->resp_s_pub, hs->resp.s_pub, 32);

	/* <- s: both sides mix the prologue, then the responder's static key. */
	field(&prologue, v, "init_prologue");
	noise_symmetric_init(&hs->init.sym, hs->name, hs->suite);
	noise_mix_hash(&hs->init.sym, prologue.b, prologue.len);
	noise_mix_hash(&hs->init.sym, hs->resp_s_pub, 32);
	field(&prologue, v, "resp_prologue");
	noise_symmetric_init(&hs->resp.sym, hs->name, hs->suite);
	noise_mix_hash(&hs->resp.sym, prologue.b, prologue.len);
	noise_mix_hash(&hs->resp.sym, hs->resp.s_pub, 32);
}

static const struct json *message(const struct json *v, size_t index)
{
	const struct json *m = json_get(v, "messages");

	assert_non_null(m);
	assert_int_equal(m->type, JSON_ARRAY);
	m = m->child;
	for (size_t i = 0; m && i < index; i++)
		m = m->next;
	if (!m)
		fail_msg("vector %s has no message %zu", json_string(v, "protocol_name"), index);
	return m;
}

static void handshake_teardown(struct handshake *hs)
{
	crypto_x25519_key_free(&hs->init.s_key);
	crypto_x25519_key_free(&hs->resp.s_key);
	noise_symmetric_wipe(&hs->init.sym);
	noise_symmetric_wipe(&hs->resp.sym);
}

/* Builds message 1 on the initiator's side into out (e || s || payload). */
static size_t write_message1(struct handshake *hs, const struct bytes *payload, uint8_t *out)
{
	uint8_t ss[32];

	assert_true(noise_static_static(ss, &hs->init.s_key, hs->resp_s_pub));
	assert_true(noise_ik_write1(&hs->init.sym, hs->init.has_psk ? hs->init.psk : NULL, hs->init.e_priv, ss,
				    hs->init.s_pub, hs->resp_s_pub, payload->b, payload->len, out, out + 32, out + 80));
	return 32 + 48 + payload->len + 16;
}

/* Reads message 1 on the responder's side the way the engine does: e, es, s;
 * ss of the static key found; the payload. *sym changes only if all passed. */
static bool read_message1(struct noise_symmetric *sym, const uint8_t *psk, const struct party *resp, const uint8_t *msg,
			  size_t plen, uint8_t rs_pub[32], uint8_t *payload)
{
	struct noise_symmetric st = *sym;
	uint8_t ss[32];
	bool ok = noise_ik_read1_static(&st, psk, &resp->s_key, msg, msg + 32, rs_pub) &&
		  noise_static_static(ss, &resp->s_key, rs_pub) &&
		  noise_ik_read1_payload(&st, ss, msg + 80, plen, payload);

	if (ok)
		*sym = st;
	noise_symmetric_wipe(&st);
	return ok;
}

static void run_vector(const struct json *v)
{
	struct handshake hs;
	struct bytes payload, ciphertext;
	uint8_t msg[600], got[512], rs_pub[32], hash[32];
	uint8_t i_send[32], i_recv[32], r_send[32], r_recv[32];
	struct crypto_aead_ctx i_tx, i_rx, r_tx, r_rx;
	uint64_t i_to_r = 0, r_to_i = 0;
	size_t len, count = 0;

	handshake_setup(&hs, v);

	/* -> e, es, s, ss */
	field(&payload, message(v, 0), "payload");
	field(&ciphertext, message(v, 0), "ciphertext");
	len = write_message1(&hs, &payload, msg);
	assert_int_equal(len, ciphertext.len);
	assert_memory_equal(msg, ciphertext.b, len);
	memset(rs_pub, 0, sizeof(rs_pub));
	assert_true(read_message1(&hs.resp.sym, hs.resp.has_psk ? hs.resp.psk : NULL, &hs.resp, msg, payload.len,
				  rs_pub, got));
	assert_memory_equal(got, payload.b, payload.len);
	assert_memory_equal(rs_pub, hs.init.s_pub, 32);
	assert_memory_equal(hs.init.sym.h, hs.resp.sym.h, 32);

	/* <- e, ee, se, [psk] */
	field(&payload, message(v, 1), "payload");
	field(&ciphertext, message(v, 1), "ciphertext");
	assert_true(noise_ik_write2(&hs.resp.sym, hs.resp.has_psk ? hs.resp.psk : NULL, hs.resp.e_priv,
				    msg /* the initiator's e */, rs_pub, payload.b, payload.len, got, got + 32));
	len = 32 + payload.len + 16;
	assert_int_equal(len, ciphertext.len);
	assert_memory_equal(got, ciphertext.b, len);
	memcpy(msg, got, len);
	assert_true(noise_ik_read2(&hs.init.sym, hs.init.has_psk ? hs.init.psk : NULL, hs.init.e_priv, &hs.init.s_key,
				   msg, msg + 32, payload.len, got));
	assert_memory_equal(got, payload.b, payload.len);

	/* The handshake hash, the same on both sides. */
	field(&ciphertext, v, "handshake_hash");
	assert_int_equal(ciphertext.len, 32);
	memcpy(hash, ciphertext.b, 32);
	assert_memory_equal(hs.init.sym.h, hash, 32);
	assert_memory_equal(hs.resp.sym.h, hash, 32);

	/* Split(): the initiator sends with k1, the responder with k2. */
	noise_split(&hs.init.sym, i_send, i_recv);
	noise_split(&hs.resp.sym, r_recv, r_send);
	assert_memory_equal(i_send, r_recv, 32);
	assert_memory_equal(i_recv, r_send, 32);
	assert_memory_not_equal(i_send, i_recv, 32);
	assert_true(crypto_aead_ctx_init(&i_tx) && crypto_aead_ctx_init(&i_rx));
	assert_true(crypto_aead_ctx_init(&r_tx) && crypto_aead_ctx_init(&r_rx));
	assert_true(crypto_aead_ctx_setkey(&i_tx, hs.suite, i_send));
	assert_true(crypto_aead_ctx_setkey(&i_rx, hs.suite, i_recv));
	assert_true(crypto_aead_ctx_setkey(&r_tx, hs.suite, r_send));
	assert_true(crypto_aead_ctx_setkey(&r_rx, hs.suite, r_recv));

	/* Transport: even messages go initiator -> responder, odd ones back;
	 * each direction counts its nonces from 0; no associated data. */
	for (const struct json *m = message(v, 2); m; m = m->next, count++) {
		bool from_initiator = count % 2 == 0;
		struct crypto_aead_ctx *tx = from_initiator ? &i_tx : &r_tx, *rx = from_initiator ? &r_rx : &i_rx;
		uint64_t *n = from_initiator ? &i_to_r : &r_to_i;

		field(&payload, m, "payload");
		field(&ciphertext, m, "ciphertext");
		assert_int_equal(ciphertext.len, payload.len + 16);
		assert_true(crypto_aead_ctx_seal(tx, got, payload.b, payload.len, *n));
		assert_memory_equal(got, ciphertext.b, ciphertext.len);
		assert_true(crypto_aead_seal(hs.suite, got, payload.b, payload.len, NULL, 0, *n,
					     from_initiator ? i_send : r_send));
		assert_memory_equal(got, ciphertext.b, ciphertext.len);
		assert_true(crypto_aead_ctx_open(rx, got, ciphertext.b, ciphertext.len, *n));
		assert_memory_equal(got, payload.b, payload.len);
		(*n)++;
	}
	assert_true(count >= 2); /* at least one message each way */
	crypto_aead_ctx_free(&i_tx);
	crypto_aead_ctx_free(&i_rx);
	crypto_aead_ctx_free(&r_tx);
	crypto_aead_ctx_free(&r_rx);
	handshake_teardown(&hs);
}

static char vectors_path[4096];

static struct json *load_vectors(void)
{
	snprintf(vectors_path, sizeof(vectors_path), "%s/noise-cacophony-ik.json", unit_vectors_dir());
	return json_load(vectors_path);
}

static const struct json *find_vector(const struct json *root, const char *name)
{
	const struct json *list = json_get(root, "vectors");

	assert_non_null(list);
	for (const struct json *v = list->child; v; v = v->next) {
		const char *n = json_string(v, "protocol_name");

		if (n && !strcmp(n, name))
			return v;
	}
	fail_msg("vector %s is missing from %s", name, vectors_path);
	return NULL;
}

static void test_cacophony_vectors(void **state)
{
	struct json *root = load_vectors();
	(void)state;

	for (size_t i = 0; i < WANTED; i++) {
		print_message("%s\n", wanted[i]);
		run_vector(find_vector(root, wanted[i]));
	}
	json_free(root);
}

/* ---- The symmetric state on its own ------------------------------------ */

static void test_symmetric_init(void **state)
{
	static const char name32[] = "Noise_XX_25519_AESGCM_BLAKE2s_ab";  /* 32 bytes */
	static const char name33[] = "Noise_IK_25519_ChaChaPoly_BLAKE2s"; /* 33 bytes */
	struct noise_symmetric s;
	uint8_t want[32];
	(void)state;

	assert_int_equal(strlen(name32), 32);
	noise_symmetric_init(&s, "Noise_IK_25519_AESGCM_BLAKE2s", SUITE_AESGCM);
	memset(want, 0, sizeof(want));
	memcpy(want, "Noise_IK_25519_AESGCM_BLAKE2s", 29);
	assert_memory_equal(s.h, want, 32); /* padded with zeros */
	assert_memory_equal(s.ck, want, 32);
	assert_false(s.has_key);
	assert_int_equal(s.suite, SUITE_AESGCM);

	noise_symmetric_init(&s, name32, SUITE_CHACHAPOLY);
	assert_memory_equal(s.h, name32, 32); /* exactly 32: used as it is */

	noise_symmetric_init(&s, name33, SUITE_CHACHAPOLY);
	crypto_hash(want, name33, 33, NULL, 0);
	assert_memory_equal(s.h, want, 32); /* longer: hashed */
	assert_memory_equal(s.ck, want, 32);
}

static void test_symmetric_rules(void **state)
{
	static const uint8_t plain[5] = "hello";
	struct noise_symmetric a, b;
	uint8_t h0[32], want[32], ct[5 + 16], pt[5], k1[32], k2[32], t1[32], t2[32];
	(void)state;

	noise_symmetric_init(&a, "Noise_IK_25519_ChaChaPoly_BLAKE2s", SUITE_CHACHAPOLY);
	/* Without a key, EncryptAndHash copies and hashes the plaintext. */
	memcpy(h0, a.h, 32);
	assert_true(noise_encrypt_and_hash(&a, ct, plain, sizeof(plain)));
	assert_memory_equal(ct, plain, sizeof(plain));
	crypto_hash(want, h0, 32, plain, sizeof(plain));
	assert_memory_equal(a.h, want, 32);

	/* MixKey: ck, k = HKDF(ck, ikm) and n = 0. */
	b = a;
	noise_mix_key(&a, (const uint8_t *)"ikm", 3);
	crypto_kdf(t1, t2, NULL, b.ck, "ikm", 3);
	assert_memory_equal(a.ck, t1, 32);
	assert_memory_equal(a.k, t2, 32);
	assert_true(a.has_key);
	assert_int_equal(a.n, 0);

	/* EncryptAndHash with a key: AEAD with ad = h, then h covers the ciphertext. */
	b = a;
	memcpy(h0, a.h, 32);
	assert_true(noise_encrypt_and_hash(&a, ct, plain, sizeof(plain)));
	assert_int_equal(a.n, 1);
	crypto_hash(want, h0, 32, ct, sizeof(ct));
	assert_memory_equal(a.h, want, 32);
	assert_true(crypto_aead_open(SUITE_CHACHAPOLY, pt, ct, sizeof(ct), h0, 32, 0, a.k));
	assert_memory_equal(pt, plain, sizeof(plain));
	/* The other side, in place. */
	assert_true(noise_decrypt_and_hash(&b, ct, ct, sizeof(ct)));
	assert_memory_equal(ct, plain, sizeof(plain));
	assert_memory_equal(b.h, a.h, 32);
	assert_int_equal(b.n, 1);
	/* A second message uses nonce 1, and a replayed one does not open. */
	assert_true(noise_encrypt_and_hash(&a, ct, plain, sizeof(plain)));
	assert_true(crypto_aead_open(SUITE_CHACHAPOLY, pt, ct, sizeof(ct), b.h, 32, 1, a.k));
	assert_true(noise_decrypt_and_hash(&b, pt, ct, sizeof(ct)));
	assert_false(noise_decrypt_and_hash(&b, pt, ct, sizeof(ct)));
	assert_false(noise_decrypt_and_hash(&b, pt, ct, 15));

	/* MixKeyAndHash: ck, temp_h, k = HKDF(ck, ikm, 3); MixHash(temp_h). */
	b = a;
	noise_mix_key_and_hash(&a, (const uint8_t *)"psk", 3);
	{
		uint8_t t3[32];

		crypto_kdf(t1, t2, t3, b.ck, "psk", 3);
		assert_memory_equal(a.ck, t1, 32);
		assert_memory_equal(a.k, t3, 32);
		crypto_hash(want, b.h, 32, t2, 32);
		assert_memory_equal(a.h, want, 32);
		assert_int_equal(a.n, 0);
	}

	/* Split: HKDF(ck, empty). */
	noise_split(&a, k1, k2);
	crypto_kdf(t1, t2, NULL, a.ck, NULL, 0);
	assert_memory_equal(k1, t1, 32);
	assert_memory_equal(k2, t2, 32);

	noise_symmetric_wipe(&a);
	assert_true(crypto_is_zero(&a, sizeof(a)));
}

/* Every bit of message 1 matters: flipping any one makes read1 fail and
 * leaves the responder's state as it was. Likewise message 2 and read2. */
static void test_tampered_messages(void **state)
{
	struct json *root = load_vectors();
	const struct json *v = find_vector(root, "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
	struct handshake hs;
	struct bytes payload;
	struct noise_symmetric resp_before, init_before, copy;
	uint8_t msg1[600], msg2[600], rs_pub[32], got[512], e_pub[32];
	size_t len1, len2;
	(void)state;

	handshake_setup(&hs, v);
	memcpy(&resp_before, &hs.resp.sym, sizeof(resp_before));
	field(&payload, message(v, 0), "payload");
	len1 = write_message1(&hs, &payload, msg1);
	for (size_t bit = 0; bit < 8 * len1; bit++) {
		msg1[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		memcpy(&copy, &resp_before, sizeof(copy));
		assert_false(read_message1(&copy, hs.resp.psk, &hs.resp, msg1, payload.len, rs_pub, got));
		assert_memory_equal(&copy, &resp_before, sizeof(copy));
		msg1[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	/* Without the psk the responder computes another state and fails too. */
	memcpy(&copy, &resp_before, sizeof(copy));
	assert_false(read_message1(&copy, NULL, &hs.resp, msg1, payload.len, rs_pub, got));
	/* And the untouched message still reads. */
	assert_true(read_message1(&hs.resp.sym, hs.resp.psk, &hs.resp, msg1, payload.len, rs_pub, got));
	assert_memory_equal(got, payload.b, payload.len);

	field(&payload, message(v, 1), "payload");
	assert_true(noise_ik_write2(&hs.resp.sym, hs.resp.psk, hs.resp.e_priv, msg1, rs_pub, payload.b, payload.len,
				    e_pub, msg2 + 32));
	memcpy(msg2, e_pub, 32);
	len2 = 32 + payload.len + 16;
	memcpy(&init_before, &hs.init.sym, sizeof(init_before));
	for (size_t bit = 0; bit < 8 * len2; bit++) {
		msg2[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		memcpy(&copy, &init_before, sizeof(copy));
		assert_false(noise_ik_read2(&copy, hs.init.psk, hs.init.e_priv, &hs.init.s_key, msg2, msg2 + 32,
					    payload.len, got));
		assert_memory_equal(&copy, &init_before, sizeof(copy));
		msg2[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	/* A wrong psk fails message 2. */
	memcpy(&copy, &init_before, sizeof(copy));
	hs.init.psk[0] ^= 1;
	assert_false(
		noise_ik_read2(&copy, hs.init.psk, hs.init.e_priv, &hs.init.s_key, msg2, msg2 + 32, payload.len, got));
	hs.init.psk[0] ^= 1;
	assert_true(noise_ik_read2(&hs.init.sym, hs.init.psk, hs.init.e_priv, &hs.init.s_key, msg2, msg2 + 32,
				   payload.len, got));
	assert_memory_equal(hs.init.sym.h, hs.resp.sym.h, 32);
	handshake_teardown(&hs);
	json_free(root);
}

/* A low-order ephemeral in message 1 is refused before anything is decrypted. */
static void test_low_order_ephemeral(void **state)
{
	struct json *root = load_vectors();
	const struct json *v = find_vector(root, "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
	struct handshake hs;
	struct bytes payload;
	struct noise_symmetric before;
	uint8_t msg1[600], rs_pub[32];
	(void)state;

	handshake_setup(&hs, v);
	field(&payload, message(v, 0), "payload");
	write_message1(&hs, &payload, msg1);
	memcpy(&before, &hs.resp.sym, sizeof(before));
	memset(msg1, 0, 32); /* u = 0 */
	assert_false(noise_ik_read1_static(&hs.resp.sym, hs.resp.psk, &hs.resp.s_key, msg1, msg1 + 32, rs_pub));
	assert_memory_equal(&hs.resp.sym, &before, sizeof(before));
	handshake_teardown(&hs);
	json_free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cacophony_vectors),   cmocka_unit_test(test_symmetric_init),
		cmocka_unit_test(test_symmetric_rules),     cmocka_unit_test(test_tampered_messages),
		cmocka_unit_test(test_low_order_ephemeral),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	crypto_cleanup();
	return failed;
}
