/*
 * A basic infusion pump firmware in C (libc only), driven by pumpsim over the
 * lock-step JSON-lines protocol (docs/protocol.md) on stdin/stdout:
 *
 *     make -C examples/controller_c
 *     pumpsim verify --controller "exec:examples/controller_c/pump_firmware"
 *
 * What it does (and, on purpose, what it does not):
 *   - runs the first program step if it is continuous (rate, VTBI, scheduled start);
 *     at the VTBI: medium vtbi_complete alarm, then KVO at min(KVO rate, rate) or a
 *     stop that completes the stroke, as the pump's vtbi_end says;
 *   - logs the time remaining at every rate change;
 *   - downstream occlusion watch at the pump's occlusion limit, air-in-line above
 *     the pump's air limit, door open, reservoir near empty (1 mL left) and empty
 *     (0.5 mL left), battery low (15 min) and depleted (5 min): high-priority
 *     alarms stop the motor at once;
 *   - start, stop (completes the stroke), titrate, silence, a new continuous program;
 *   - refuses PCA presses, clinician boluses and other program modes, and has no
 *     drug library, no repeated-alarm escalation, no flow-sensor checks and no
 *     silence time-out: `pumpsim verify` shows which requirements that breaks.
 *
 * The JSON reader below is a small parser of its own for the protocol's messages:
 * it builds a tree of nodes over the line, unescaping strings in place.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a minimal JSON reader ------------------------------------------------------ */
enum { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };
typedef struct {
    int type;
    double num;
    const char *str; /* J_STR: the unescaped string */
    const char *key; /* member of an object: its name */
    int child, next; /* first child, next sibling (-1: none) */
} Node;

#define MAX_NODES 200000
static Node nodes[MAX_NODES];
static int n_nodes;
static char *pos;

static int new_node(int type) {
    if (n_nodes >= MAX_NODES) return -1;
    Node *n = &nodes[n_nodes];
    n->type = type; n->num = 0; n->str = NULL; n->key = NULL; n->child = n->next = -1;
    return n_nodes++;
}

static void skip_ws(void) { while (*pos == ' ' || *pos == '\t' || *pos == '\r' || *pos == '\n') pos++; }

static char *parse_string(void) { /* at the opening quote; unescapes in place */
    char *out = ++pos, *start = pos;
    while (*pos && *pos != '"') {
        if (*pos == '\\') {
            pos++;
            switch (*pos) {
            case 'n': *out++ = '\n'; break;
            case 't': *out++ = '\t'; break;
            case 'r': *out++ = '\r'; break;
            case 'b': *out++ = '\b'; break;
            case 'f': *out++ = '\f'; break;
            case 'u': { /* \uXXXX: ASCII kept, anything else as '?' */
                unsigned v = (unsigned)strtoul((char[5]){pos[1], pos[2], pos[3], pos[4], 0}, NULL, 16);
                *out++ = v < 128 ? (char)v : '?';
                pos += 4;
                break;
            }
            case '\0': return NULL;
            default: *out++ = *pos; /* \" \\ \/ */
            }
            pos++;
        } else {
            *out++ = *pos++;
        }
    }
    if (*pos != '"') return NULL;
    pos++;
    *out = '\0';
    return start;
}

static int parse_value(void);

static int parse_items(int parent, char close, int is_obj) {
    int last = -1;
    skip_ws();
    if (*pos == close) { pos++; return parent; }
    for (;;) {
        const char *key = NULL;
        skip_ws();
        if (is_obj) {
            if (*pos != '"' || !(key = parse_string())) return -1;
            skip_ws();
            if (*pos++ != ':') return -1;
        }
        int child = parse_value();
        if (child < 0) return -1;
        nodes[child].key = key;
        if (last < 0) nodes[parent].child = child; else nodes[last].next = child;
        last = child;
        skip_ws();
        if (*pos == ',') { pos++; continue; }
        if (*pos == close) { pos++; return parent; }
        return -1;
    }
}

static int parse_value(void) {
    skip_ws();
    char c = *pos;
    if (c == '{') { pos++; int n = new_node(J_OBJ); return n < 0 ? -1 : parse_items(n, '}', 1); }
    if (c == '[') { pos++; int n = new_node(J_ARR); return n < 0 ? -1 : parse_items(n, ']', 0); }
    if (c == '"') {
        int n = new_node(J_STR);
        if (n < 0 || !(nodes[n].str = parse_string())) return -1;
        return n;
    }
    if (!strncmp(pos, "null", 4)) { pos += 4; return new_node(J_NULL); }
    if (!strncmp(pos, "true", 4)) { pos += 4; return new_node(J_TRUE); }
    if (!strncmp(pos, "false", 5)) { pos += 5; return new_node(J_FALSE); }
    char *end; /* numbers, and Infinity / -Infinity / NaN as pumpsim may write them */
    double v = strtod(pos, &end);
    if (end == pos) return -1;
    pos = end;
    int n = new_node(J_NUM);
    if (n >= 0) nodes[n].num = v;
    return n;
}

static int get(int obj, const char *key) {
    if (obj < 0 || nodes[obj].type != J_OBJ) return -1;
    for (int c = nodes[obj].child; c >= 0; c = nodes[c].next)
        if (!strcmp(nodes[c].key, key)) return c;
    return -1;
}
static int at(int arr, int i) {
    if (arr < 0 || nodes[arr].type != J_ARR) return -1;
    int c = nodes[arr].child;
    while (c >= 0 && i-- > 0) c = nodes[c].next;
    return c;
}
static int is_num(int n) { return n >= 0 && nodes[n].type == J_NUM; }
static double num_or(int n, double dflt) { return is_num(n) ? nodes[n].num : dflt; }
static const char *str_or(int n, const char *dflt) {
    return n >= 0 && nodes[n].type == J_STR ? nodes[n].str : dflt;
}

/* ---- writing the answer ---------------------------------------------------------- */
static char out[1 << 16];
static size_t out_len;
static int n_cmds;

static void emit(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + out_len, sizeof out - out_len, fmt, ap);
    va_end(ap);
    if (n > 0 && out_len + (size_t)n < sizeof out) out_len += (size_t)n;
}
static void cmd(const char *fmt, ...) { /* one command, e.g. cmd("\"set_rate\",%.17g", r) */
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    emit("%s[%s]", n_cmds++ ? "," : "", buf);
}
static const char *esc(const char *s) { /* s as the inside of a JSON string */
    static char bufs[4][256];
    static int k;
    char *b = bufs[k++ & 3], *o = b;
    for (; *s && o < b + sizeof bufs[0] - 7; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { *o++ = '\\'; *o++ = (char)c; }
        else if (c < 0x20) o += sprintf(o, "\\u%04x", c);
        else *o++ = (char)c;
    }
    *o = '\0';
    return b;
}
static void begin_done(void) { out_len = 0; n_cmds = 0; emit("{\"type\":\"done\",\"cmds\":["); }
static void send_line(void) { fwrite(out, 1, out_len, stdout); fputc('\n', stdout); fflush(stdout); }
static void send_done(void) { emit("]}"); send_line(); }
static void send_error(const char *message) {
    out_len = 0;
    emit("{\"type\":\"error\",\"message\":\"%s\"}", esc(message));
    send_line();
}

/* ---- the firmware ------------------------------------------------------------------ */
enum { END_STOP, END_KVO, END_CONTINUE };
typedef struct {
    int used;
    double rate, vtbi, start;  /* program: mL/s, mL (<0: none), s */
    int continuous;            /* the first step is a continuous one */
    double kvo_rate, max_rate; /* mL/s */
    int vtbi_end;
    double occlusion_limit, air_limit; /* mmHg, mL (<0: none) */
    double target;                     /* infused volume at which the VTBI is done (<0: none) */
    double set;                        /* rate the motor is commanded to */
    char state[16];
    char resume[16]; /* state to resume after a stop or an alarm */
    char alarm[32];  /* the active stopping alarm, "" for none */
    int door_open, finite_reservoir;
} Pump;

#define MAX_PUMPS 1024
static Pump pumps[MAX_PUMPS + 1];
static double hw_now, hw_infused, hw_reservoir, hw_pressure;
static int reservoir_known;

static void set_state(Pump *p, const char *s) {
    if (strcmp(p->state, s)) {
        snprintf(p->state, sizeof p->state, "%s", s);
        cmd("\"set_state\",\"%s\"", s);
    }
}

static void run_at(Pump *p, double rate) { /* command the motor and say how long is left */
    if (rate > p->max_rate) rate = p->max_rate;
    p->set = rate;
    cmd("\"set_rate\",%.17g", rate);
    if (rate > 0 && p->target >= 0 && !strcmp(p->state, "running"))
        cmd("\"log\",\"time_remaining\",{\"remaining_s\":%.17g,\"basis\":\"program\",\"rate_mL_h\":%.17g}",
            (p->target - hw_infused) / rate, rate * 3600);
    else if (rate > 0 && reservoir_known)
        cmd("\"log\",\"time_remaining\",{\"remaining_s\":%.17g,\"basis\":\"reservoir\",\"rate_mL_h\":%.17g}",
            (hw_reservoir - 0.5 > 0 ? hw_reservoir - 0.5 : 0) / rate, rate * 3600);
}

static void watch_line(Pump *p) {
    if (p->occlusion_limit > 0)
        cmd("\"watch_pressure\",\"occlusion\",%.17g,\"downstream\"", p->occlusion_limit);
}

static void begin_program(Pump *p) {
    if (!p->continuous) {
        cmd("\"log\",\"program_refused\",{\"reason\":\"this firmware runs continuous programs only\"}");
        set_state(p, "idle");
        return;
    }
    if (p->start > hw_now) {
        cmd("\"set_timer\",\"start\",%.17g", p->start);
        set_state(p, "idle");
        return;
    }
    p->target = p->vtbi >= 0 ? hw_infused + p->vtbi : -1;
    if (p->target >= 0) cmd("\"watch_volume\",\"vtbi\",%.17g", p->target);
    if (p->finite_reservoir) {
        if (hw_reservoir > 1.0) cmd("\"watch_volume\",\"near_empty\",%.17g", hw_infused + hw_reservoir - 1.0);
        cmd("\"watch_volume\",\"empty\",%.17g", hw_infused + (hw_reservoir > 0.5 ? hw_reservoir - 0.5 : 0));
    }
    set_state(p, p->rate > 0 ? "running" : "paused");
    run_at(p, p->rate);
    watch_line(p);
}

static void stop_alarm(Pump *p, const char *kind, const char *message) {
    cmd("\"alarm\",\"%s\",\"high\",\"%s\"", kind, message);
    if (!p->alarm[0]) snprintf(p->resume, sizeof p->resume, "%s", p->state);
    snprintf(p->alarm, sizeof p->alarm, "%s", kind);
    p->set = 0;
    cmd("\"set_rate\",0"); /* an alarm stops at once, mid-stroke */
    set_state(p, "alarm");
}

static void read_program(Pump *p, int step) {
    const char *mode = str_or(get(step, "mode"), "?");
    p->continuous = step >= 0 && !strcmp(mode, "continuous");
    p->rate = num_or(get(step, "rate"), 0);
    p->vtbi = num_or(get(step, "vtbi"), -1);
    p->start = num_or(get(step, "start"), 0);
}

static void on_new(Pump *p, int config) {
    memset(p, 0, sizeof *p);
    p->used = 1;
    read_program(p, at(get(config, "program"), 0));
    p->kvo_rate = num_or(get(config, "kvo_rate"), 1.0 / 3600);
    p->max_rate = num_or(get(config, "max_rate"), 1200.0 / 3600);
    const char *end = str_or(get(config, "vtbi_end"), "stop");
    p->vtbi_end = !strcmp(end, "kvo") ? END_KVO : !strcmp(end, "continue") ? END_CONTINUE : END_STOP;
    p->occlusion_limit = num_or(get(config, "occlusion_limit"), -1);
    p->air_limit = num_or(get(config, "air_limit"), -1);
    p->finite_reservoir = is_num(get(config, "reservoir"));
    p->target = -1;
    snprintf(p->state, sizeof p->state, "idle");
}

static void on_timer(Pump *p, const char *name) {
    if (!strcmp(name, "start")) {
        begin_program(p);
    } else if (!strcmp(name, "vtbi")) {
        cmd("\"log\",\"vtbi_complete\",{}");
        cmd("\"alarm\",\"vtbi_complete\",\"medium\",\"VTBI complete\"");
        p->target = -1;
        if (p->vtbi_end == END_KVO) {
            set_state(p, "kvo");
            run_at(p, p->kvo_rate < p->set ? p->kvo_rate : p->set);
        } else if (p->vtbi_end == END_STOP) {
            p->set = 0;
            cmd("\"stop\",true"); /* a normal stop completes the stroke under way */
            set_state(p, "complete");
        }
    } else if (!strcmp(name, "occlusion")) {
        char msg[64];
        snprintf(msg, sizeof msg, "downstream pressure %.0f mmHg", hw_pressure);
        stop_alarm(p, "occlusion", msg);
    } else if (!strcmp(name, "near_empty")) {
        cmd("\"alarm\",\"near_empty\",\"low\",\"1 mL left\"");
    } else if (!strcmp(name, "empty")) {
        stop_alarm(p, "reservoir_empty", "0.5 mL left");
    }
}

static void on_sensor(Pump *p, const char *kind, double value) {
    if (!strcmp(kind, "air") && p->air_limit > 0 && value > p->air_limit) {
        stop_alarm(p, "air_in_line", "air bubble above the limit");
    } else if (!strcmp(kind, "door")) {
        p->door_open = value != 0;
        if (p->door_open) stop_alarm(p, "door_open", "door open");
    } else if (!strcmp(kind, "battery") && value <= 5) {
        stop_alarm(p, "battery_depleted", "battery depleted");
    } else if (!strcmp(kind, "battery") && value <= 15) {
        cmd("\"alarm\",\"battery_low\",\"medium\",\"battery low\"");
    } else {
        cmd("\"log\",\"sensor\",{\"sensor\":\"%s\",\"value\":%.17g}", esc(kind), value);
    }
}

static void ignore(const char *input, const char *reason) {
    cmd("\"log\",\"input_ignored\",{\"input\":\"%s\",\"reason\":\"%s\"}", esc(input), esc(reason));
}

static void on_input(Pump *p, const char *kind, int details) {
    if (!strcmp(kind, "start")) {
        if (p->door_open) { ignore(kind, "door open"); return; }
        if (strcmp(p->state, "alarm") && strcmp(p->state, "paused")) { ignore(kind, p->state); return; }
        if (p->alarm[0]) {
            cmd("\"log\",\"alarm_cleared\",{\"alarm\":\"%s\",\"cause\":\"operator start\"}", p->alarm);
            p->alarm[0] = '\0';
        }
        const char *back = !strcmp(p->state, "alarm") ? p->resume : "running";
        if (!strcmp(back, "kvo")) { set_state(p, "kvo"); run_at(p, p->kvo_rate < p->rate ? p->kvo_rate : p->rate); }
        else if (!strcmp(back, "running")) { set_state(p, "running"); run_at(p, p->rate); }
        else set_state(p, back);
        watch_line(p);
    } else if (!strcmp(kind, "stop")) {
        if (strcmp(p->state, "running") && strcmp(p->state, "kvo")) { ignore(kind, p->state); return; }
        p->set = 0;
        cmd("\"stop\",true");
        set_state(p, "paused");
    } else if (!strcmp(kind, "titrate")) {
        if (strcmp(p->state, "running")) { ignore(kind, "no running step"); return; }
        double rate = num_or(get(details, "rate"), p->rate);
        cmd("\"log\",\"titrated\",{\"old_mL_h\":%.17g,\"new_mL_h\":%.17g}", p->rate * 3600, rate * 3600);
        p->rate = rate;
        run_at(p, rate);
    } else if (!strcmp(kind, "silence")) {
        if (!p->alarm[0]) { ignore(kind, "no active alarm"); return; }
        cmd("\"log\",\"alarm_silenced\",{\"alarm\":\"%s\"}", p->alarm);
    } else if (!strcmp(kind, "program")) {
        cmd("\"cancel\",\"vtbi\"");
        read_program(p, at(get(details, "program"), 0));
        p->start = 0;
        begin_program(p);
    } else if (!strcmp(kind, "pca_press")) {
        cmd("\"log\",\"pca_request\",{\"accepted\":false,\"reason\":\"no PCA in this firmware\"}");
    } else if (!strcmp(kind, "clinician_bolus")) {
        cmd("\"log\",\"bolus_refused\",{\"bolus\":\"clinician\",\"reason\":\"no bolus in this firmware\"}");
    } else {
        ignore(kind, "not supported");
    }
}

int main(void) {
    char *line = NULL;
    size_t cap = 0;
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    while (getline(&line, &cap, stdin) > 0) {
        n_nodes = 0;
        pos = line;
        int msg = parse_value();
        if (msg < 0) { send_error("cannot parse the message"); continue; }
        const char *type = str_or(get(msg, "type"), "");
        if (!strcmp(type, "bye")) break;
        if (!strcmp(type, "hello")) {
            out_len = 0;
            emit("{\"type\":\"hello\",\"protocol\":1,\"name\":\"pump_firmware.c 1.0\"}");
            send_line();
            continue;
        }
        int id = (int)num_or(get(msg, "id"), -1);
        if (id < 1 || id > MAX_PUMPS) { send_error("pump id out of range"); continue; }
        Pump *p = &pumps[id];
        begin_done();
        if (!strcmp(type, "new")) {
            on_new(p, get(msg, "config"));
            send_done();
            continue;
        }
        if (strcmp(type, "call") || !p->used) { send_error("expected new or call"); continue; }
        int hw = get(msg, "hw");
        hw_now = num_or(get(hw, "now"), 0);
        hw_infused = num_or(get(hw, "infused"), 0);
        reservoir_known = is_num(get(hw, "reservoir"));
        hw_reservoir = num_or(get(hw, "reservoir"), 0);
        hw_pressure = num_or(get(hw, "pressure_downstream"), 0);
        const char *cb = str_or(get(msg, "cb"), "");
        int event = get(msg, "event");
        if (!strcmp(cb, "start")) begin_program(p);
        else if (!strcmp(cb, "timer")) on_timer(p, str_or(get(msg, "name"), ""));
        else if (!strcmp(cb, "sensor")) on_sensor(p, str_or(get(event, "kind"), ""), num_or(get(event, "value"), 0));
        else if (!strcmp(cb, "input")) on_input(p, str_or(get(event, "kind"), ""), get(event, "details"));
        send_done();
    }
    free(line);
    return 0;
}
