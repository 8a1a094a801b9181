/*
 * The sandbox process of every pod (containerd's sandbox_image,
 * registry.k8s.io/pause:3.10), built here because no registry is reachable.
 * It holds the pod's namespaces open: sleep until a signal, exit cleanly on
 * SIGTERM/SIGINT, and reap zombies, since it is PID 1 of the pod when the pod
 * shares its process namespace.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
    (void)sig;
    _exit(0);
}

static void on_child(int sig) {
    (void)sig;
    while (waitpid(-1, 0, WNOHANG) > 0) {
    }
}

int main(void) {
    struct sigaction stop = {.sa_handler = on_stop};
    struct sigaction child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP};
    if (sigaction(SIGINT, &stop, 0) || sigaction(SIGTERM, &stop, 0) ||
        sigaction(SIGCHLD, &child, 0)) {
        return 1;
    }
    for (;;) {
        pause();
    }
}
