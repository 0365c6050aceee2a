package main

import (
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestParseCommandLine(t *testing.T) {
	c, err := parseCommandLine([]string{"-tracing", "http://127.0.0.1:9411", "-root", "/repo", "127.0.0.1:50051"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := commandLine{tracing: "http://127.0.0.1:9411", runtime: "nodejs", engineAddress: "127.0.0.1:50051"}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}

	c, err = parseCommandLine([]string{"-version"}, io.Discard)
	if err != nil || !c.showVersion || c.engineAddress != "" {
		t.Errorf("-version: got %+v, %v", c, err)
	}

	// The engine address is the last positional argument.
	c, err = parseCommandLine([]string{"-runtime", "bun", "first", "127.0.0.1:1"}, io.Discard)
	if err != nil || c.runtime != "bun" || c.engineAddress != "127.0.0.1:1" {
		t.Errorf("got %+v, %v", c, err)
	}

	var usage strings.Builder
	if _, err := parseCommandLine([]string{"-no-such-flag"}, &usage); err == nil {
		t.Error("an unknown flag parsed without an error")
	}
	if !strings.Contains(usage.String(), "flag provided but not defined: -no-such-flag") {
		t.Errorf("usage does not name the flag: %q", usage.String())
	}
}

func programInfo(t *testing.T, options map[string]any) *pulumirpc.ProgramInfo {
	t.Helper()
	s, err := structpb.NewStruct(options)
	if err != nil {
		t.Fatal(err)
	}
	return &pulumirpc.ProgramInfo{ProgramDirectory: "/repo", EntryPoint: ".", Options: s}
}

func TestParseOptions(t *testing.T) {
	for _, info := range []*pulumirpc.ProgramInfo{nil, {ProgramDirectory: "/repo"}, programInfo(t, nil)} {
		opts, err := parseOptions(info)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(opts, options{typescript: true}) {
			t.Errorf("defaults for %v: got %+v, want TypeScript on and nothing else", info, opts)
		}
		if env := opts.env(); !reflect.DeepEqual(env, []string{"PULUMI_NODEJS_TYPESCRIPT=true"}) {
			t.Errorf("defaults' env: %q", env)
		}
	}

	opts, err := parseOptions(programInfo(t, map[string]any{
		"typescript": false,
		"tsconfig":   "tsconfig.build.json",
		"nodeargs":   "--max-old-space-size=4096  --enable-source-maps",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := options{
		typescript: false,
		tsconfig:   "tsconfig.build.json",
		nodeargs:   []string{"--max-old-space-size=4096", "--enable-source-maps"},
	}
	if !reflect.DeepEqual(opts, want) {
		t.Errorf("got %+v, want %+v", opts, want)
	}
	if env := opts.env(); !reflect.DeepEqual(env, []string{"PULUMI_NODEJS_TSCONFIG_PATH=tsconfig.build.json"}) {
		t.Errorf("env without TypeScript: %q", env)
	}

	for option, value := range map[string]any{"typescript": "yes", "tsconfig": true, "nodeargs": 4096} {
		_, err := parseOptions(programInfo(t, map[string]any{option: value}))
		if err == nil || !strings.Contains(err.Error(), "runtime option '"+option+"'") {
			t.Errorf("%s=%v: got error %v, want one naming the option", option, value, err)
		}
	}
}

func TestConfigEnv(t *testing.T) {
	env, err := configEnv(map[string]string{
		"monkeytown:web":                       `{"replicas":2}`,
		"kubernetes:renderYamlToDirectory":     "rendered/dev",
		"aws:config:region":                    "eu-west-1", // the old form keeps its key
		"monkeytown:databasePassword":          "[secret]",
		"monkeytown:name with spaces and dots": "a.b",
	}, []string{"monkeytown:databasePassword"})
	if err != nil {
		t.Fatal(err)
	}
	if len(env) != 2 || !strings.HasPrefix(env[0], "PULUMI_CONFIG=") ||
		!strings.HasPrefix(env[1], "PULUMI_CONFIG_SECRET_KEYS=") {
		t.Fatalf("env: %q", env)
	}
	var cfg map[string]string
	if err := json.Unmarshal([]byte(strings.TrimPrefix(env[0], "PULUMI_CONFIG=")), &cfg); err != nil {
		t.Fatal(err)
	}
	wantCfg := map[string]string{
		"monkeytown:config:web":                       `{"replicas":2}`,
		"kubernetes:config:renderYamlToDirectory":     "rendered/dev",
		"aws:config:region":                           "eu-west-1",
		"monkeytown:config:databasePassword":          "[secret]",
		"monkeytown:config:name with spaces and dots": "a.b",
	}
	if !reflect.DeepEqual(cfg, wantCfg) {
		t.Errorf("PULUMI_CONFIG: got %v, want %v", cfg, wantCfg)
	}
	if env[1] != `PULUMI_CONFIG_SECRET_KEYS=["monkeytown:databasePassword"]` {
		t.Errorf("secret keys: %q", env[1])
	}

	env, err = configEnv(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"PULUMI_CONFIG={}", "PULUMI_CONFIG_SECRET_KEYS=[]"}; !reflect.DeepEqual(env, want) {
		t.Errorf("no config: got %q, want %q", env, want)
	}

	for _, bad := range []string{"webImage", "a:b:c", "monkeytown:other:web"} {
		if _, err := configEnv(map[string]string{bad: "x"}, nil); err == nil ||
			!strings.Contains(err.Error(), `bad config key "`+bad+`"`) {
			t.Errorf("%q: got error %v, want one naming the key", bad, err)
		}
	}
}

func TestRunArgs(t *testing.T) {
	req := &pulumirpc.RunRequest{
		MonitorAddress: "127.0.0.1:1",
		Organization:   "organization",
		Project:        "monkeytown",
		Stack:          "dev",
		Pwd:            "/ignored",
		DryRun:         true,
		Parallel:       16,
		Args:           []string{"--extra", "x"},
		Info:           &pulumirpc.ProgramInfo{ProgramDirectory: "/repo", EntryPoint: "stacks", RootDirectory: "/repo"},
	}
	opts := options{typescript: true, nodeargs: []string{"--enable-source-maps"}}
	got := runArgs(req, locate(req), opts, "/repo/node_modules/@pulumi/pulumi/cmd/run", "127.0.0.1:2", "")
	want := []string{
		"--enable-source-maps", "/repo/node_modules/@pulumi/pulumi/cmd/run",
		"--monitor", "127.0.0.1:1", "--engine", "127.0.0.1:2", "--organization", "organization",
		"--project", "monkeytown", "--root-directory", "/repo", "--stack", "dev", "--pwd", "/repo",
		"--dry-run", "--parallel", "16", "stacks", "--extra", "x",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runArgs:\n got %q\nwant %q", got, want)
	}

	// An engine that sends no ProgramInfo: the working directory and `program`.
	old := &pulumirpc.RunRequest{Pwd: "/work", Program: "index.js", Stack: "dev"}
	if loc := locate(old); loc != (location{programDir: "/work", entryPoint: "index.js"}) {
		t.Errorf("locate without ProgramInfo: %+v", loc)
	}
	got = runArgs(old, locate(old), options{}, "run.js", "", "http://127.0.0.1:9411")
	want = []string{"run.js", "--stack", "dev", "--pwd", "/work", "--parallel", "0", "--tracing", "http://127.0.0.1:9411", "index.js"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runArgs without ProgramInfo:\n got %q\nwant %q", got, want)
	}
	if loc := locate(&pulumirpc.RunRequest{Pwd: "/work"}); loc.entryPoint != "." {
		t.Errorf("default entry point: %q", loc.entryPoint)
	}
}
