// SPDX-License-Identifier: MIT
/* genkey, genpsk, pubkey: the same base64 keys as `wg`. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "crypto.h"
#include "encoding.h"

static int print_key_and_wipe(uint8_t key[KEY_LEN])
{
	char b64[KEY_B64_LEN + 1];
	key_to_base64(b64, key);
	puts(b64);
	crypto_wipe(b64, sizeof(b64));
	crypto_wipe(key, KEY_LEN);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
}

static void warn_if_world_readable(void)
{
	struct stat st;
	if (fstat(fileno(stdout), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO))
		fputs("Warning: writing a private key to a world accessible file.\n"
		      "Consider setting your umask to 077 and trying again.\n",
		      stderr);
}

static int generate(int argc, char **argv, const char *usage, bool clamp)
{
	uint8_t key[KEY_LEN];

	if (cmd_wants_help(argc, argv, usage))
		return EXIT_OK;
	if (argc != 1) {
		fprintf(stderr, "%s", usage);
		return EXIT_USAGE;
	}
	warn_if_world_readable();
	if (clamp ? !crypto_x25519_keygen(key) : !crypto_random(key, sizeof(key))) {
		fprintf(stderr, "%s: cannot get random bytes\n", argv[0]);
		return EXIT_RUNTIME;
	}
	return print_key_and_wipe(key);
}

int cmd_genkey(int argc, char **argv)
{
	return generate(argc, argv, "Usage: sluice genkey\nPrints a new private key (base64) on stdout.\n", true);
}

int cmd_genpsk(int argc, char **argv)
{
	return generate(argc, argv, "Usage: sluice genpsk\nPrints a new preshared key (base64) on stdout.\n", false);
}

int cmd_pubkey(int argc, char **argv)
{
	static const char usage[] =
		"Usage: sluice pubkey < private.key\n"
		"Reads a private key (base64) on stdin and prints its public key.\n";
	char line[128];
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	int ret = EXIT_RUNTIME;

	if (cmd_wants_help(argc, argv, usage))
		return EXIT_OK;
	if (argc != 1) {
		fprintf(stderr, "%s", usage);
		return EXIT_USAGE;
	}
	size_t n = fread(line, 1, sizeof(line) - 1, stdin);
	line[n] = '\0';
	/* Trailing whitespace (the newline `wg genkey` prints) is allowed. */
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	if (!key_from_base64(priv, line)) {
		fprintf(stderr, "pubkey: stdin is not a private key (expected 44 characters of base64)\n");
		goto out;
	}
	if (!crypto_x25519_public(pub, priv)) {
		fprintf(stderr, "pubkey: cannot compute the public key\n");
		goto out;
	}
	ret = print_key_and_wipe(pub);
out:
	crypto_wipe(line, sizeof(line));
	crypto_wipe(priv, sizeof(priv));
	return ret;
}
