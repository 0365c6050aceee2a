// Command pulumi-language-nodejs is a small, self-written Node.js language host
// for the Pulumi engine, needed only where the official Pulumi CLI cannot be
// installed. An official release (pulumi/actions, the npm `pulumi` package,
// get.pulumi.com) ships its own pulumi-language-nodejs beside the CLI, and
// scripts/pulumi-toolchain.sh then uses that one and never builds this. Here the
// CLI is built from the Go module proxy instead, and the upstream host lives in
// its own Go module (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3),
// which that proxy does not serve. So this implements the subset of the
// LanguageRuntime gRPC service that `pulumi preview/up/destroy`, Node.js policy
// packs (`--policy-pack`) and the Automation API need:
//
//   - Handshake, GetPluginInfo, Cancel
//   - GetRequiredPlugins / GetRequiredPackages: report nothing; the engine then
//     loads providers lazily when the program registers them (found on PATH).
//   - Run: spawns `node <program>/node_modules/@pulumi/pulumi/cmd/run` with the
//     flags that script parses (--monitor, --engine, --project, --stack, ...)
//     and the config in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS.
//   - RunPlugin: runs policy packs via @pulumi/pulumi/cmd/run-policy-pack
//     (behind the SDK's PolicyProxy, which feeds stack config to the pack) and
//     other Node.js plugins via @pulumi/pulumi/cmd/run-plugin.
//   - InstallDependencies: `npm ci`/`npm install` when node_modules is missing.
//   - About, GetProgramDependencies: best-effort answers for `pulumi about`.
//
// Not implemented (the engine reports "not implemented"): code generation
// (GenerateProgram/Project/Package), Pack, Link, Template, debugging attach,
// synchronous invokes (--sync pipes, used only by deprecated invokeSync) and
// the bun runtime.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3"
	resourceconfig "github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is the Pulumi version this host reports, PULUMI_VERSION of
// scripts/toolchain/versions.env: scripts/pulumi-toolchain.sh sets it with
// -ldflags "-X main.version=...". A build without it refuses to start.
var version string

// Exit code the Node.js SDK uses after it already printed an actionable error.
const exitAfterUserActionableMessage = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string

	cancelCtx  context.Context
	cancelFunc context.CancelFunc
}

// commandLine is what the engine passes when it starts the host:
// `pulumi-language-nodejs [-tracing <endpoint>] [-root <dir>] [-runtime nodejs] <engine address>`.
type commandLine struct {
	tracing       string
	runtime       string
	showVersion   bool
	engineAddress string // the last positional argument; empty when there is none
}

// parseCommandLine parses the host's arguments (without the program name); flag
// errors and usage go to stderr.
func parseCommandLine(args []string, stderr io.Writer) (commandLine, error) {
	var c commandLine
	fs := flag.NewFlagSet("pulumi-language-nodejs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.tracing, "tracing", "", "Zipkin-compatible tracing endpoint (passed through to node)")
	fs.StringVar(&c.runtime, "runtime", "nodejs", "runtime to use; only nodejs is supported")
	fs.BoolVar(&c.showVersion, "version", false, "print the plugin version and exit")
	_ = fs.String("root", "", "ignored (accepted for compatibility)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if rest := fs.Args(); len(rest) > 0 {
		c.engineAddress = rest[len(rest)-1]
	}
	return c, nil
}

func main() {
	if version == "" {
		fatalf("built without its version: build it with scripts/pulumi-toolchain.sh, " +
			"which passes -ldflags \"-X main.version=<PULUMI_VERSION of scripts/toolchain/versions.env>\"")
	}
	cl, err := parseCommandLine(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	if cl.showVersion {
		fmt.Println(version)
		return
	}
	if cl.runtime != "nodejs" {
		fatalf("unsupported runtime %q (this host only supports nodejs)", cl.runtime)
	}
	engineAddress := cl.engineAddress

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cancelChannel := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancelChannel)
	}()

	if engineAddress != "" {
		// Exit when the engine goes away.
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, stop); err != nil {
			fatalf("could not start health check: %v", err)
		}
	}

	cancelCtx, cancelFunc := context.WithCancel(context.Background())
	h := &host{
		engineAddress: engineAddress,
		tracing:       cl.tracing,
		cancelCtx:     cancelCtx,
		cancelFunc:    cancelFunc,
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancelChannel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fatalf("could not start language host gRPC server: %v", err)
	}
	// The engine reads the port from our first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fatalf("language host stopped serving: %v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: "+format+"\n", args...)
	os.Exit(1)
}

func (h *host) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *host) Handshake(ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	h.engineAddress = req.GetEngineAddress()
	h.mu.Unlock()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancelFunc()
	return &emptypb.Empty{}, nil
}

func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// options are the `runtime.options` of Pulumi.yaml / PulumiPolicy.yaml that matter here.
type options struct {
	typescript bool
	tsconfig   string
	nodeargs   []string
}

func parseOptions(info *pulumirpc.ProgramInfo) (options, error) {
	opts := options{typescript: true}
	if info == nil || info.GetOptions() == nil {
		return opts, nil
	}
	m := info.GetOptions().AsMap()
	if v, ok := m["typescript"]; ok {
		b, ok := v.(bool)
		if !ok {
			return opts, errors.New("runtime option 'typescript' must be a boolean")
		}
		opts.typescript = b
	}
	if v, ok := m["tsconfig"]; ok {
		s, ok := v.(string)
		if !ok {
			return opts, errors.New("runtime option 'tsconfig' must be a string")
		}
		opts.tsconfig = s
	}
	if v, ok := m["nodeargs"]; ok {
		s, ok := v.(string)
		if !ok {
			return opts, errors.New("runtime option 'nodeargs' must be a string")
		}
		opts.nodeargs = strings.Fields(s)
	}
	return opts, nil
}

func (o options) env() []string {
	var env []string
	if o.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if o.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+o.tsconfig)
	}
	return env
}

// resolveModule asks node to resolve `mod` (e.g. "@pulumi/pulumi/cmd/run") from dir,
// so that the @pulumi/pulumi installed in that project is used.
func resolveModule(nodeBin, dir, mod, hint string) (string, error) {
	script := fmt.Sprintf(`try{console.log(require.resolve(%q,{paths:[process.cwd()]}))}`+
		`catch(e){console.error(e.code==="MODULE_NOT_FOUND"?%q:e.message);process.exit(1)}`,
		mod, "Cannot find module '"+mod+"' from "+dir+": "+hint)
	cmd := exec.Command(nodeBin, "-e", script)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", errors.New(msg)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// location is where a program runs: its directory, its entry point relative to
// it, and the project's root directory.
type location struct {
	programDir string
	entryPoint string
	rootDir    string
}

// locate reads the program's location from the request: its ProgramInfo, or from
// older engines the working directory and `program`.
func locate(req *pulumirpc.RunRequest) location {
	loc := location{programDir: req.GetPwd(), entryPoint: "."}
	if info := req.GetInfo(); info != nil {
		if info.GetProgramDirectory() != "" {
			loc.programDir = info.GetProgramDirectory()
		}
		if info.GetEntryPoint() != "" {
			loc.entryPoint = info.GetEntryPoint()
		}
		loc.rootDir = info.GetRootDirectory()
	} else if req.GetProgram() != "" {
		loc.entryPoint = req.GetProgram()
	}
	return loc
}

// runArgs are node's arguments for `@pulumi/pulumi/cmd/run` (at runPath): the
// node options first, then the flags that script parses (an empty value leaves
// its flag out), the entry point and the program's own arguments.
func runArgs(req *pulumirpc.RunRequest, loc location, opts options, runPath, engine, tracing string) []string {
	args := append([]string{}, opts.nodeargs...)
	args = append(args, runPath)
	flagArg := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	flagArg("monitor", req.GetMonitorAddress())
	flagArg("engine", engine)
	flagArg("organization", req.GetOrganization())
	flagArg("project", req.GetProject())
	flagArg("root-directory", loc.rootDir)
	flagArg("stack", req.GetStack())
	flagArg("pwd", loc.programDir)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flagArg("parallel", strconv.Itoa(int(req.GetParallel())))
	flagArg("tracing", tracing)
	args = append(args, loc.entryPoint)
	return append(args, req.GetArgs()...)
}

// configEnv is the program's config as the Node.js SDK reads it:
// PULUMI_CONFIG, a JSON object keyed "<namespace>:config:<name>" (the engine
// sends "<namespace>:<name>"), and PULUMI_CONFIG_SECRET_KEYS, a JSON array of the
// keys as the engine sent them ([] when none).
func configEnv(config map[string]string, secretKeys []string) ([]string, error) {
	cfg := make(map[string]string, len(config))
	for k, v := range config {
		key, err := resourceconfig.ParseKey(k)
		if err != nil {
			return nil, fmt.Errorf("bad config key %q: %w", k, err)
		}
		cfg[key.Namespace()+":config:"+key.Name()] = v
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	return []string{"PULUMI_CONFIG=" + string(cfgJSON), "PULUMI_CONFIG_SECRET_KEYS=" + string(secretJSON)}, nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on $PATH: " + err.Error()}, nil
	}
	loc := locate(req)
	opts, err := parseOptions(req.GetInfo())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	configVars, err := configEnv(req.GetConfig(), req.GetConfigSecretKeys())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	runPath, err := resolveModule(nodeBin, loc.programDir, "@pulumi/pulumi/cmd/run",
		"have you run `npm install` (or `pulumi install`)?")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	args := runArgs(req, loc, opts, runPath, h.engine(), h.tracing)

	env := os.Environ()
	env = append(env, configVars...)
	env = append(env, opts.env()...)

	cmdCtx, cmdCancel := context.WithCancel(h.cancelCtx)
	defer cmdCancel()
	stopAfter := context.AfterFunc(ctx, cmdCancel)
	defer stopAfter()

	cmd := exec.CommandContext(cmdCtx, nodeBin, args...)
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = env
	// node may switch its stdio to non-blocking mode; hand it pipes, not our own fds.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			switch code := exitErr.ExitCode(); code {
			case exitAfterUserActionableMessage:
				return &pulumirpc.RunResponse{Bail: true}, nil
			case 0:
				return &pulumirpc.RunResponse{Error: "Program exited unexpectedly: " + err.Error()}, nil
			default:
				return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}, nil
			}
		}
		return &pulumirpc.RunResponse{Error: "could not run node: " + err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	ctx := server.Context()
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on $PATH: %w", err)
	}
	info := req.GetInfo()
	if info == nil {
		return errors.New("RunPlugin: missing program info")
	}
	programDir := info.GetProgramDirectory()
	opts, err := parseOptions(info)
	if err != nil {
		return err
	}
	isPolicyPack := req.GetKind() == "analyzer"

	mod := "@pulumi/pulumi/cmd/run-plugin"
	if isPolicyPack {
		mod = "@pulumi/pulumi/cmd/run-policy-pack"
	}
	runPath, err := resolveModule(nodeBin, programDir, mod, "run `npm ci` (or `npm install`) in "+programDir)
	if err != nil {
		return err
	}

	args := append([]string{runPath}, opts.nodeargs...)
	if isPolicyPack {
		// run-policy-pack expects: <engine-address> <policy pack directory>
		args = append(args, req.GetArgs()...)
		args = append(args, programDir)
	} else {
		args = append(args, programDir)
		args = append(args, req.GetArgs()...)
	}

	env := req.GetEnv()
	if len(env) == 0 {
		env = os.Environ()
	}
	env = append(env, opts.env()...)

	var proxy *sdk.PolicyProxy
	if isPolicyPack {
		// Policy packs built on @pulumi/policy read stack name/config from the
		// environment. The SDK's PolicyProxy answers the engine first (it prints
		// its own port on stdout), waits for ConfigureStack, and then forwards
		// everything to the real pack once it is started.
		proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout)
		if err != nil {
			return fmt.Errorf("could not start policy pack proxy: %w", err)
		}
		cfg, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get stack configuration: %w", err)
		}
		if cfg != nil {
			add := func(k, v string) {
				if v != "" {
					env = append(env, k+"="+v)
				}
			}
			add("PULUMI_NODEJS_ORGANIZATION", cfg.GetOrganization())
			add("PULUMI_NODEJS_PROJECT", cfg.GetProject())
			add("PULUMI_NODEJS_STACK", cfg.GetStack())
			add("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(cfg.GetDryRun()))
			if cfg.GetConfig() != nil {
				b, err := json.Marshal(cfg.GetConfig())
				if err != nil {
					return err
				}
				add("PULUMI_CONFIG", string(b))
			}
		}
	}

	cmd := exec.CommandContext(ctx, nodeBin, args...)
	if isPolicyPack {
		// Policy packs have always run from their own directory.
		cmd.Dir = programDir
	} else {
		cmd.Dir = req.GetPwd()
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr

	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not start node: %w", err)
	}
	if proxy != nil {
		if err := proxy.Attach(ctx, cmd); err != nil {
			return fmt.Errorf("could not attach policy pack proxy: %w", err)
		}
	} else if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("Program exited with non-zero exit code: %d", exitErr.ExitCode())
		}
		return err
	}
	return closer.Close()
}

func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	dir := req.GetDirectory() //nolint:staticcheck // older engines only send this
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		dir = info.GetProgramDirectory()
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()

	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		fmt.Fprintf(stdout, "No package.json in %s; nothing to install.\n", dir)
		return closer.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
		fmt.Fprintf(stdout, "node_modules already present in %s; skipping install.\n", dir)
		return closer.Close()
	}
	npmArgs := []string{"install", "--no-audit", "--no-fund"}
	if _, err := os.Stat(filepath.Join(dir, "package-lock.json")); err == nil {
		npmArgs = []string{"ci", "--no-audit", "--no-fund"}
	}
	fmt.Fprintf(stdout, "Running npm %s in %s\n", strings.Join(npmArgs, " "), dir)
	cmd := exec.CommandContext(server.Context(), "npm", npmArgs...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm %s failed: %w", npmArgs[0], err)
	}
	return closer.Close()
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on $PATH: %w", err)
	}
	out, err := exec.CommandContext(ctx, nodeBin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: nodeBin,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
		Metadata:   map[string]string{"languageHost": "monkeytown minimal pulumi-language-nodejs " + version},
	}, nil
}

// GetProgramDependencies lists the direct dependencies declared in package.json
// with the versions actually installed in node_modules.
func (h *host) GetProgramDependencies(ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetPwd()
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		dir = info.GetProgramDirectory()
	}
	var pkg struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, fmt.Errorf("reading package.json: %w", err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return nil, fmt.Errorf("parsing package.json: %w", err)
	}
	names := map[string]string{}
	for n, v := range pkg.DevDependencies {
		names[n] = v
	}
	for n, v := range pkg.Dependencies {
		names[n] = v
	}
	var deps []*pulumirpc.DependencyInfo
	for n, declared := range names {
		ver := declared
		if data, err := os.ReadFile(filepath.Join(dir, "node_modules", n, "package.json")); err == nil {
			var installed struct {
				Version string `json:"version"`
			}
			if json.Unmarshal(data, &installed) == nil && installed.Version != "" {
				ver = installed.Version
			}
		}
		deps = append(deps, &pulumirpc.DependencyInfo{Name: n, Version: ver})
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Name < deps[j].Name })
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}
