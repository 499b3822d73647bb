// SPDX-License-Identifier: MIT
/*
 * Instance runtime files and discovery, in a temporary runtime directory.
 * "Daemons" are forked children that claim an instance and serve its
 * control socket; kill -9 of such a child is the crash being recovered.
 */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/control.h"
#include "agent/instance.h"
#include "util/log.h"

static char base[64], run[96];
static char logged[4096];

static void capture_sink(enum wgx_log_level level, const char *msg, void *ctx)
{
	size_t len = strlen(logged);

	(void)ctx;
	snprintf(logged + len, sizeof(logged) - len, "%d:%s\n", (int)level,
		 msg);
}

/* A fresh base dir; the runtime dir inside it does not exist yet. */
static bool setup(void)
{
	snprintf(base, sizeof(base), "/tmp/wgx-inst-XXXXXX");
	if (!mkdtemp(base))
		return false;
	snprintf(run, sizeof(run), "%s/run", base);
	logged[0] = '\0';
	wgx_log_set_sink(capture_sink, NULL);
	return wgx_instance_set_rundir(run) == 0;
}

static void teardown(void)
{
	DIR *d = opendir(run);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		char path[400];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", run, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(run);
	rmdir(base);
	wgx_instance_set_rundir(NULL);
	wgx_log_set_sink(NULL, NULL);
}

static bool exists(const char *tun, const char *suffix)
{
	char path[200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s%s", run, tun, suffix);
	return lstat(path, &st) == 0;
}

/* ---- a forked daemon ---- */

struct daemon_opts {
	const char *tun;
	const char *iface;
	bool serve;
	bool other_netns; /* answer identity with a different netns */
	bool unshare_net; /* really move to a new network namespace */
};

static int h_identity(void *ctx, const char *args, struct wgx_control_reply *r)
{
	(void)args;
	return wgx_instance_identity(ctx, r);
}

static const struct wgx_control_command daemon_cmds[] = {
	{ "identity", h_identity },
	{ NULL, NULL },
};

static void __attribute__((noreturn))
daemon_main(const struct daemon_opts *o, int fd)
{
	struct wgx_control_server s = { .fd = -1 };
	struct wgx_instance inst;
	char ok = 'r';
	struct pollfd p;

	if (o->unshare_net && unshare(CLONE_NEWNET) < 0)
		ok = 'u';
	else if (wgx_instance_claim(&inst, o->tun, o->iface))
		ok = 'c';
	else if (o->serve && wgx_control_server_open(&s, inst.info.sock_path,
						     daemon_cmds, &inst))
		ok = 's';
	if (o->other_netns)
		inst.info.netns.ino++;
	if (write(fd, &ok, 1) != 1 || ok != 'r' || !o->serve)
		for (;;)
			pause();
	p = (struct pollfd){ .fd = s.fd, .events = POLLIN };
	for (;;)
		if (poll(&p, 1, -1) > 0)
			wgx_control_server_serve(&s);
}

/* Fork a daemon; its pid once it claimed (and listens), else -1. */
static pid_t spawn(const struct daemon_opts *o, char *why)
{
	int fds[2];
	pid_t pid;
	char c = 0;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		daemon_main(o, fds[1]);
	}
	close(fds[1]);
	if (pid > 0 && read(fds[0], &c, 1) == 1 && c == 'r') {
		close(fds[0]);
		return pid;
	}
	close(fds[0]);
	if (why)
		*why = c;
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

static void crash(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* ---- tests ---- */

static void test_instance_names(void)
{
	CHECK(wgx_instance_name_valid("wg0"));
	CHECK(wgx_instance_name_valid("eth0.100"));
	CHECK(wgx_instance_name_valid("a-b_c@d"));
	CHECK(wgx_instance_name_valid("123456789012345"));
	CHECK(!wgx_instance_name_valid("1234567890123456"));
	CHECK(!wgx_instance_name_valid(""));
	CHECK(!wgx_instance_name_valid(NULL));
	CHECK(!wgx_instance_name_valid("."));
	CHECK(!wgx_instance_name_valid(".."));
	CHECK(!wgx_instance_name_valid("a/b"));
	CHECK(!wgx_instance_name_valid("../x"));
	CHECK(!wgx_instance_name_valid("eth0:1"));
	CHECK(!wgx_instance_name_valid("wg 0"));
	CHECK(!wgx_instance_name_valid("wg\n0"));
	CHECK(!wgx_instance_name_valid("wg\xc3\xa9"));
}

static void test_instance_paths(void)
{
	char buf[128], longdir[120];

	CHECK(!strcmp(wgx_instance_rundir(), "/run/wgxdp"));
	CHECK(wgx_instance_sock_path("wg0", buf, sizeof(buf)) == 0);
	CHECK(!strcmp(buf, "/run/wgxdp/wg0.sock"));
	CHECK(wgx_instance_pid_path("wg0", buf, sizeof(buf)) == 0);
	CHECK(!strcmp(buf, "/run/wgxdp/wg0.pid"));
	CHECK(wgx_instance_sock_path("a/b", buf, sizeof(buf)) == -EINVAL);
	CHECK(wgx_instance_sock_path("wg0", buf, 10) == -ENAMETOOLONG);
	/* A runtime dir whose socket paths would not fit sun_path. */
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	CHECK(wgx_instance_set_rundir(longdir) == -ENAMETOOLONG);
	CHECK(wgx_instance_set_rundir("") == -EINVAL);
	CHECK(!strcmp(wgx_instance_rundir(), "/run/wgxdp"));
}

static void test_instance_claim_release(void)
{
	struct wgx_instance inst;
	struct wgx_netns self;
	char path[200], text[256], want[256];
	struct stat st;
	pid_t pid = 0;
	ssize_t n;
	int fd;

	CHECK(setup());
	CHECK(wgx_instance_netns_self(&self) == 0);
	CHECK(wgx_instance_state("wg0", NULL) == WGX_INSTANCE_ABSENT);
	CHECK(wgx_instance_claim(&inst, "wg0", "eth0") == 0);
	/* The runtime directory was created root-only. */
	CHECK(stat(run, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK((st.st_mode & 07777) == 0700);
	snprintf(path, sizeof(path), "%s/wg0.pid", run);
	CHECK(!strcmp(inst.pid_path, path));
	snprintf(path, sizeof(path), "%s/wg0.sock", run);
	CHECK(!strcmp(inst.info.sock_path, path));
	CHECK(!strcmp(inst.info.tun, "wg0") &&
	      !strcmp(inst.info.iface, "eth0"));
	CHECK(inst.info.pid == getpid());
	CHECK(wgx_instance_netns_equal(&inst.info.netns, &self));
	/* The pidfile starts with our pid and records iface and netns. */
	fd = open(inst.pid_path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	text[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	snprintf(want, sizeof(want), "%d\niface=eth0\nnetns=%llu:%llu\n",
		 (int)getpid(), (unsigned long long)self.dev,
		 (unsigned long long)self.ino);
	CHECK(!strcmp(text, want));
	CHECK(stat(inst.pid_path, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(wgx_instance_state("wg0", &pid) == WGX_INSTANCE_LIVE);
	CHECK(pid == getpid());
	wgx_instance_release(&inst);
	CHECK(inst.pid_fd == -1);
	CHECK(!exists("wg0", ".pid") && !exists("wg0", ".sock"));
	CHECK(wgx_instance_state("wg0", NULL) == WGX_INSTANCE_ABSENT);
	wgx_instance_release(&inst); /* twice is harmless */
	/* Claimable again after release. */
	CHECK(wgx_instance_claim(&inst, "wg0", "eth0") == 0);
	wgx_instance_release(&inst);
	CHECK(wgx_instance_claim(&inst, "a/b", "eth0") == -EINVAL);
	CHECK(wgx_instance_claim(&inst, "wg0", "") == -EINVAL);
	CHECK(inst.pid_fd == -1);
	teardown();
}

static void test_instance_lock_refuses_second(void)
{
	struct daemon_opts o = { .tun = "wg0", .iface = "eth0" };
	struct wgx_instance inst, again;
	pid_t child, pid = 0;
	char why = 0;

	CHECK(setup());
	/* Another process holds wg0: we are refused, whatever our IFACE. */
	child = spawn(&o, NULL);
	CHECK(child > 0);
	CHECK(wgx_instance_claim(&inst, "wg0", "eth1") == -EEXIST);
	CHECK(strstr(logged, "already running") != NULL);
	CHECK(wgx_instance_state("wg0", &pid) == WGX_INSTANCE_LIVE);
	CHECK(pid == child);
	/* The refused claim left the live instance's files alone. */
	CHECK(exists("wg0", ".pid"));
	crash(child);
	/* Within one process too: the lock belongs to the open file. */
	CHECK(wgx_instance_claim(&inst, "wg0", "eth0") == 0);
	CHECK(wgx_instance_claim(&again, "wg0", "eth0") == -EEXIST);
	CHECK(again.pid_fd == -1);
	/* And a forked child cannot take it from us either. */
	CHECK(spawn(&o, &why) == -1 && why == 'c');
	wgx_instance_release(&inst);
	teardown();
}

static void test_instance_iface_taken(void)
{
	struct daemon_opts o = { .tun = "wg0", .iface = "eth0" };
	struct wgx_instance inst;
	pid_t child;

	CHECK(setup());
	child = spawn(&o, NULL);
	CHECK(child > 0);
	CHECK(wgx_instance_claim(&inst, "wg1", "eth0") == -EBUSY);
	CHECK(strstr(logged, "eth0 already carries instance wg0") != NULL);
	CHECK(!exists("wg1", ".pid"));
	CHECK(wgx_instance_claim(&inst, "wg1", "eth1") == 0);
	wgx_instance_release(&inst);
	/* Once the owner is gone (even by crash), eth0 is free again. */
	crash(child);
	CHECK(wgx_instance_claim(&inst, "wg1", "eth0") == 0);
	wgx_instance_release(&inst);
	teardown();
}

/* A child that claims and _exit()s leaves what a crash leaves. */
static void test_instance_stale_reclaimed(void)
{
	struct daemon_opts o = { .tun = "wg0", .iface = "eth0", .serve = true };
	struct wgx_instance inst;
	pid_t child, pid = 0;
	int status = -1;

	CHECK(setup());
	child = fork();
	if (child == 0) {
		struct wgx_control_server s;

		if (wgx_instance_claim(&inst, "wg0", "eth0") ||
		    wgx_control_server_open(&s, inst.info.sock_path, NULL,
					    NULL))
			_exit(1);
		_exit(0);
	}
	CHECK(child > 0 && waitpid(child, &status, 0) == child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(exists("wg0", ".pid") && exists("wg0", ".sock"));
	CHECK(wgx_instance_state("wg0", &pid) == WGX_INSTANCE_STALE);
	CHECK(pid == child);
	/* The next claim takes over, says so, and clears the socket. */
	logged[0] = '\0';
	CHECK(wgx_instance_claim(&inst, "wg0", "eth0") == 0);
	CHECK(strstr(logged, "Removing stale instance wg0") != NULL);
	CHECK(strstr(logged, "eth0") != NULL);
	CHECK(!exists("wg0", ".sock"));
	CHECK(wgx_instance_state("wg0", &pid) == WGX_INSTANCE_LIVE);
	CHECK(pid == getpid());
	wgx_instance_release(&inst);
	/* kill -9 of a serving daemon: reclaimed the same way. */
	child = spawn(&o, NULL);
	CHECK(child > 0);
	crash(child);
	CHECK(wgx_instance_state("wg0", NULL) == WGX_INSTANCE_STALE);
	CHECK(wgx_instance_claim(&inst, "wg0", "eth0") == 0);
	wgx_instance_release(&inst);
	teardown();
}

static void test_instance_reap(void)
{
	struct daemon_opts live = { .tun = "live",
				    .iface = "eth0",
				    .serve = true };
	struct daemon_opts dead = { .tun = "dead",
				    .iface = "eth1",
				    .serve = true };
	struct wgx_control_server orphan;
	int status = -1;
	char path[200];
	pid_t a, b, orphan_pid;

	CHECK(setup());
	CHECK(wgx_instance_reap() == 0); /* no runtime dir yet: nothing */
	a = spawn(&live, NULL);
	b = spawn(&dead, NULL);
	CHECK(a > 0 && b > 0);
	crash(b);
	/* A socket with no pidfile and no listener. */
	snprintf(path, sizeof(path), "%s/lost.sock", run);
	/* Left by a child that exits without closing it, as if killed. */
	orphan_pid = fork();
	if (orphan_pid == 0)
		_exit(wgx_control_server_open(&orphan, path, NULL, NULL) != 0);
	CHECK(orphan_pid > 0 && waitpid(orphan_pid, &status, 0) == orphan_pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	logged[0] = '\0';
	CHECK(wgx_instance_reap() == 2);
	CHECK(strstr(logged, "Removing stale instance dead") != NULL);
	CHECK(strstr(logged, "lost.sock") != NULL);
	CHECK(!exists("dead", ".pid") && !exists("dead", ".sock"));
	CHECK(!exists("lost", ".sock"));
	CHECK(exists("live", ".pid") && exists("live", ".sock"));
	CHECK(wgx_instance_state("live", NULL) == WGX_INSTANCE_LIVE);
	CHECK(wgx_instance_reap() == 0);
	crash(a);
	CHECK(wgx_instance_reap() == 1);
	teardown();
}

static void test_instance_rundir_checks(void)
{
	struct wgx_instance inst;
	char path[200];
	int fd;

	CHECK(setup());
	CHECK(wgx_instance_rundir_prepare(false) == -ENOENT);
	CHECK(wgx_instance_rundir_prepare(true) == 0);
	/* Group or world writable: refused. */
	CHECK(chmod(run, 0770) == 0);
	CHECK(wgx_instance_rundir_prepare(false) == -EPERM);
	CHECK(wgx_instance_claim(&inst, "wg0", "eth0") == -EPERM);
	CHECK(strstr(logged, "group or world writable") != NULL);
	CHECK(chmod(run, 0702) == 0);
	CHECK(wgx_instance_rundir_prepare(true) == -EPERM);
	/* 0755 is not writable by others: accepted. */
	CHECK(chmod(run, 0755) == 0);
	CHECK(wgx_instance_rundir_prepare(false) == 0);
	/* Owned by someone else: refused. */
	if (geteuid() == 0) {
		CHECK(chown(run, 65534, 65534) == 0);
		CHECK(wgx_instance_rundir_prepare(false) == -EPERM);
		CHECK(strstr(logged, "not root") != NULL);
		CHECK(chown(run, 0, 0) == 0);
	}
	CHECK(rmdir(run) == 0);
	/* A file, or a symlink to a good directory: refused. */
	fd = open(run, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(wgx_instance_rundir_prepare(true) == -ENOTDIR);
	unlink(run);
	snprintf(path, sizeof(path), "%s/real", base);
	CHECK(mkdir(path, 0700) == 0);
	CHECK(symlink(path, run) == 0);
	CHECK(wgx_instance_rundir_prepare(true) == -ENOTDIR);
	unlink(run);
	rmdir(path);
	teardown();
}

static void test_instance_identity_format(void)
{
	struct wgx_control_reply r = { 0 };
	struct wgx_instance_info info;
	struct wgx_instance inst;

	CHECK(setup());
	CHECK(wgx_instance_claim(&inst, "wg0", "eth0") == 0);
	CHECK(wgx_instance_identity(&inst, &r) == 0);
	CHECK(r.data && wgx_instance_identity_parse(r.data, &info) == 0);
	CHECK(!strcmp(info.tun, "wg0") && !strcmp(info.iface, "eth0"));
	CHECK(wgx_instance_netns_equal(&info.netns, &inst.info.netns));
	CHECK(info.pid == getpid());
	CHECK(!strcmp(info.sock_path, inst.info.sock_path));
	free(r.data);
	wgx_instance_release(&inst);
	/* Unknown keys are ignored; missing or bad fields are not. */
	CHECK(wgx_instance_identity_parse("tun=a\niface=b\nnetns=1:2\npid=3\n"
					  "future=x\n",
					  &info) == 0);
	CHECK(info.netns.dev == 1 && info.netns.ino == 2 && info.pid == 3);
	CHECK(wgx_instance_identity_parse("tun=a\niface=b\nnetns=1:2\n",
					  &info) == -EPROTO);
	CHECK(wgx_instance_identity_parse("tun=a/b\niface=b\nnetns=1:2\npid=3",
					  &info) == -EPROTO);
	CHECK(wgx_instance_identity_parse("tun=a\niface=b\nnetns=x\npid=3",
					  &info) == -EPROTO);
	CHECK(wgx_instance_identity_parse("tun=a\niface=b\nnetns=1:2\npid=-3",
					  &info) == -EPROTO);
	CHECK(wgx_instance_identity_parse("", &info) == -EPROTO);
	teardown();
}

static void test_instance_discovery(void)
{
	struct daemon_opts o0 = { .tun = "t0", .iface = "ethA", .serve = true };
	struct daemon_opts o1 = { .tun = "t1", .iface = "ethB", .serve = true };
	struct daemon_opts of = {
		.tun = "tf", .iface = "ethF", .serve = true, .other_netns = true
	};
	struct daemon_opts os = { .tun = "ts", .iface = "ethS", .serve = true };
	struct wgx_instance_info *list = NULL, info;
	size_t count = 0;
	pid_t p0, p1, pf, ps;

	CHECK(setup());
	CHECK(wgx_instance_list(&list, &count) == 0 && count == 0);
	p1 = spawn(&o1, NULL);
	p0 = spawn(&o0, NULL);
	pf = spawn(&of, NULL);
	ps = spawn(&os, NULL);
	CHECK(p0 > 0 && p1 > 0 && pf > 0 && ps > 0);
	crash(ps); /* its socket stays, with nobody listening */
	CHECK(exists("ts", ".sock"));
	CHECK(wgx_instance_list(&list, &count) == 0);
	CHECK(count == 2);
	if (count == 2) {
		CHECK(!strcmp(list[0].tun, "t0") && !strcmp(list[1].tun, "t1"));
		CHECK(!strcmp(list[0].iface, "ethA"));
		CHECK(list[0].pid == p0 && list[1].pid == p1);
	}
	free(list);
	CHECK(wgx_instance_find_iface("ethB", &info) == 0);
	CHECK(!strcmp(info.tun, "t1") && info.pid == p1);
	CHECK(wgx_instance_find_tun("t0", &info) == 0);
	CHECK(!strcmp(info.iface, "ethA"));
	/* The foreign-namespace instance answers, but is not ours. */
	CHECK(wgx_instance_find_iface("ethF", &info) == -ENOENT);
	CHECK(wgx_instance_find_tun("tf", &info) == -ENOENT);
	CHECK(wgx_instance_find_tun("ts", &info) == -ENOENT);
	CHECK(wgx_instance_find_tun("nope", &info) == -ENOENT);
	CHECK(wgx_instance_find_iface("ethZ", &info) == -ENOENT);
	CHECK(wgx_instance_find_tun("../x", &info) == -EINVAL);
	crash(p0);
	crash(p1);
	crash(pf);
	teardown();
}

/* A real second namespace, when we may create one. */
static void test_instance_real_netns(void)
{
	struct daemon_opts other = {
		.tun = "tn", .iface = "eth0", .serve = true, .unshare_net = true
	};
	struct wgx_instance inst, other_inst;
	struct wgx_control_server s;
	struct wgx_instance_info info;
	pid_t child, server;
	char why = 0;

	CHECK(setup());
	child = spawn(&other, &why);
	if (child < 0) {
		/* No CAP_SYS_ADMIN: only the simulated test above applies. */
		CHECK(why == 'u');
		teardown();
		return;
	}
	/* Same IFACE name, other namespace: no conflict, not matched. */
	CHECK(wgx_instance_find_iface("eth0", &info) == -ENOENT);
	CHECK(wgx_instance_claim(&inst, "tp", "eth0") == 0);
	CHECK(wgx_control_server_open(&s, inst.info.sock_path, daemon_cmds,
				      &inst) == 0);
	/* Serve our own identity from a child sharing our socket. */
	server = fork();
	if (server == 0) {
		struct pollfd p = { .fd = s.fd, .events = POLLIN };

		for (;;)
			if (poll(&p, 1, -1) > 0)
				wgx_control_server_serve(&s);
	}
	CHECK(wgx_instance_find_iface("eth0", &info) == 0);
	CHECK(!strcmp(info.tun, "tp"));
	CHECK(wgx_instance_find_tun("tn", &info) == -ENOENT);
	/* But its TUN name is still taken: paths are shared. */
	CHECK(wgx_instance_claim(&other_inst, "tn", "eth9") == -EEXIST);
	CHECK(strstr(logged, "in another network namespace") != NULL);
	crash(server);
	wgx_control_server_close(&s);
	wgx_instance_release(&inst);
	crash(child);
	teardown();
}

/* Claim in the parent, hand over to a forked "daemon", disown. */
static void test_instance_handover(void)
{
	struct wgx_instance inst;
	int fds[2], status = -1;
	pid_t child, pid = 0;
	char c = 0;

	CHECK(setup());
	CHECK(wgx_instance_claim(&inst, "wg0", "eth0") == 0);
	CHECK(pipe2(fds, O_CLOEXEC) == 0);
	child = fork();
	if (child == 0) {
		close(fds[1]);
		if (wgx_instance_update_pid(&inst))
			_exit(1);
		/* Hold the lock until the parent says go, then crash. */
		_exit(read(fds[0], &c, 1) == 1 ? 0 : 2);
	}
	close(fds[0]);
	CHECK(child > 0);
	wgx_instance_disown(&inst);
	CHECK(inst.pid_fd == -1);
	wgx_instance_disown(&inst); /* twice is harmless */
	/* The files stayed and the child now owns them. */
	for (int i = 0; i < 100 && pid != child; i++) {
		wgx_instance_state("wg0", &pid);
		usleep(10000);
	}
	CHECK(pid == child);
	CHECK(wgx_instance_state("wg0", NULL) == WGX_INSTANCE_LIVE);
	CHECK(wgx_instance_claim(&inst, "wg0", "eth0") == -EEXIST);
	CHECK(write(fds[1], "g", 1) == 1);
	close(fds[1]);
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
	CHECK(wgx_instance_state("wg0", NULL) == WGX_INSTANCE_STALE);
	CHECK(wgx_instance_update_pid(&inst) == -EBADF);
	teardown();
}

static void test_instance_wait_exit(void)
{
	struct daemon_opts o = { .tun = "wg0", .iface = "eth0" };
	pid_t child;

	CHECK(setup());
	CHECK(wgx_instance_wait_exit("wg0", 100) == 0); /* absent */
	child = spawn(&o, NULL);
	CHECK(child > 0);
	CHECK(wgx_instance_wait_exit("wg0", 100) == -ETIMEDOUT);
	crash(child);
	CHECK(wgx_instance_wait_exit("wg0", 100) == 0); /* stale is gone */
	teardown();
}

static const struct wgx_test instance_tests[] = {
	{ "instance: interface name validation", test_instance_names },
	{ "instance: runtime paths", test_instance_paths },
	{ "instance: claim creates 0700 dir and pidfile; release removes",
	  test_instance_claim_release },
	{ "instance: pidfile lock refuses a second instance",
	  test_instance_lock_refuses_second },
	{ "instance: one instance per IFACE in a namespace",
	  test_instance_iface_taken },
	{ "instance: stale pidfile and socket detected and reclaimed",
	  test_instance_stale_reclaimed },
	{ "instance: reap removes stale files, keeps live ones",
	  test_instance_reap },
	{ "instance: unsafe runtime directories refused",
	  test_instance_rundir_checks },
	{ "instance: identity format and parsing",
	  test_instance_identity_format },
	{ "instance: discovery skips stale, filters by netns",
	  test_instance_discovery },
	{ "instance: same IFACE in a real second netns",
	  test_instance_real_netns },
	{ "instance: claim in the parent, hand over to the daemon",
	  test_instance_handover },
	{ "instance: wait for exit", test_instance_wait_exit },
};
WGX_SUITE(instance_tests)
