/*
 * http_tls.c - the listener's TLS files: read whole into memory before the
 * sandbox (libmicrohttpd takes them from memory: MHD_OPTION_HTTPS_MEM_*),
 * bounded, and checked as a certificate/key pair with GnuTLS at once, so a
 * bad file is a config error at start-up and in `moat check`, never a
 * daemon that fails to start under the sandbox. Key bytes are wiped when
 * freed.
 */
#include "httpd_int.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PEM_MAX (1u << 20)

/* Read a PEM file whole (at most PEM_MAX bytes) into a new string. */
static char *read_pem(const char *cfgname, const char *path, const char *what,
		      struct moat_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *buf = NULL;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > PEM_MAX) {
		moat_err_set(err, MOAT_EIO, "%s: /listen/tls/%s: cannot read %s: %s", cfgname, what,
			     path, fd < 0 ? strerror(errno) : "not a regular file of at most 1 MiB");
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (!buf || got != (size_t)st.st_size) {
		moat_err_set(err, MOAT_EIO, "%s: /listen/tls/%s: cannot read %s", cfgname, what, path);
		if (buf)
			explicit_bzero(buf, got);
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[got] = '\0';
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

/* The certificate and key must make a pair GnuTLS accepts: checked here,
 * before the sandbox (and by `moat check`), so a bad file is a config
 * error naming the key, not a daemon that fails to start. */
static enum moat_rc check_tls_pair(const char *cfgname, const char *cert, const char *key,
				   struct moat_err *err)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_datum_t c = {(unsigned char *)cert, (unsigned)strlen(cert)};
	gnutls_datum_t k = {(unsigned char *)key, (unsigned)strlen(key)};
	int rc = gnutls_certificate_allocate_credentials(&cred);

	if (rc == 0)
		rc = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	if (rc < 0)
		return moat_err_set(err, MOAT_EINVAL,
				    "%s: /listen/tls: the certificate and key are not a PEM pair TLS "
				    "can use (an encrypted key is not supported); GnuTLS: %s",
				    cfgname, gnutls_strerror(rc));
	return MOAT_OK;
}

/* Read both PEM files and check them as a pair. */
enum moat_rc httpd_tls_load(const char *cfgname, const struct httpd_config *c, char **cert,
			     char **key, struct moat_err *err)
{
	*cert = read_pem(cfgname, c->tls_cert, "cert", err);
	*key = *cert ? read_pem(cfgname, c->tls_key, "key", err) : NULL;
	if (!*cert || !*key)
		return err->rc ? err->rc : MOAT_EIO;
	return check_tls_pair(cfgname, *cert, *key, err);
}

void httpd_pem_free(char *p)
{
	if (p) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}
