// Command vulndb benchmarks vigil's advisory database against its targets:
// a full build from a synthetic OSV export of 500,000 records at 25,000
// records/s or more with peak memory under 300 MB, a delta of 1,000
// changed records in under 2 s, lookups under 20 µs at the 99th percentile
// with the file cold and hot, and a file no larger than a quarter of the
// uncompressed JSON. Builds run in child processes so that their peak RSS
// is their own. Usage:
//
//	go run ./bench/vulndb -records 500000 -out bench/vulndb-RESULTS.md
//
// The export is generated once into -cache (default: the user cache
// directory) and reused.
package main

import (
	"archive/zip"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigilsec/vigil/bench/vulndb/synth"
	"github.com/vigilsec/vigil/vulndb"
	"github.com/vigilsec/vigil/vulndb/update"
)

func main() {
	mode := flag.String("mode", "drive", "drive | run | lookup (run and lookup are the child processes)")
	records := flag.Int("records", 500000, "records in the synthetic export")
	cache := flag.String("cache", "", "directory for the export and databases (default: user cache dir)/vigil-bench/vulndb")
	out := flag.String("out", "", "write the results as Markdown here")
	base := flag.String("base", "", "run: OSV base URL")
	dbCache := flag.String("db", "", "run/lookup: cache dir holding db/vigil.db")
	keysFile := flag.String("keys", "", "lookup: JSON file of [ecosystem, package] keys")
	changes := flag.Int("changes", 1000, "records changed for the delta")
	cpuprofile := flag.String("cpuprofile", "", "run: write a CPU profile here")
	traceFile := flag.String("trace", "", "run: write an execution trace here (where the build waits)")
	profileDir := flag.String("profiles", "", "drive: have each child write a CPU profile into this directory")
	reuse := flag.Bool("reuse-db", false, "drive: keep the database of an earlier run and measure only the delta and lookups")
	deltas := flag.Int("deltas", 5, "drive: delta updates to run one after another (the median is reported)")
	skipLookup := flag.Bool("skip-lookup", false, "drive: stop after the deltas")
	flag.Parse()
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			log.Fatal(err)
		}
		trace.Start(f)
		defer trace.Stop()
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	log.SetFlags(0)
	switch *mode {
	case "run":
		childRun(*base, *dbCache)
		return
	case "lookup":
		childLookup(*dbCache, *keysFile)
	default:
		drive(*records, *cache, *out, *changes, *profileDir, *reuse, max(1, *deltas), *skipLookup)
	}
}

// anonPeak samples the process's anonymous resident memory (heap and
// stacks, not the mmap'd database file, which is page cache the kernel
// can drop) and keeps the highest value.
type anonPeak struct {
	mu   sync.Mutex
	max  int64
	stop chan struct{}
}

func sampleAnon() *anonPeak {
	p := &anonPeak{stop: make(chan struct{})}
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if kb := rssAnonKB(); kb > 0 {
				p.mu.Lock()
				p.max = max(p.max, kb)
				p.mu.Unlock()
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *anonPeak) done() float64 {
	close(p.stop)
	p.mu.Lock()
	defer p.mu.Unlock()
	return float64(max(p.max, rssAnonKB())) / 1024
}

func rssAnonKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb
		}
	}
	return 0
}

// childRun runs one update and prints its report as JSON on stdout.
func childRun(base, cacheDir string) {
	peak := sampleAnon()
	start := time.Now()
	defer update.TuneGC()() // as vigil db update does
	rep, err := update.Run(context.Background(), update.Options{
		CacheDir: cacheDir, BaseURL: base, Ecosystems: ecosystems(), Feeds: []string{},
		Retries: 1, Backoff: 10 * time.Millisecond,
	})
	if err != nil {
		log.Fatalf("update: %v", err)
	}
	t := rep.Total()
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"seconds": time.Since(start).Seconds(), "added": t.Added, "updated": t.Updated, "unchanged": t.Unchanged,
		"malformed": t.Malformed, "failed": t.Failed, "failures": rep.Failures(), "docs": rep.Meta.Docs,
		"anonMB": peak.done(),
	})
}

func ecosystems() []string {
	var out []string
	for _, m := range synth.Mix {
		out = append(out, m.Folder)
	}
	return out
}

type lookupResult struct {
	ColdHitP50, ColdHitP99, ColdMissP99, ColdAllP99 float64 // µs, wall clock
	HotHitP50, HotHitP99, HotMissP99, HotAllP99     float64
	// The same on the thread's CPU clock: the time the lookup itself
	// took, without the time the scheduler gave to other processes.
	ColdCPUP50, ColdCPUP99, HotCPUP50, HotCPUP99 float64
	Hits, Lookups                                int
	ColdFirstMs                                  float64
	// After DB.Prefetch in a freshly evicted file.
	PrefetchMs, PrefetchedCPUP99, PrefetchedAllP99 float64
	// Hot, through DB.Advisories (every entry decoded into a new slice)
	// instead of the matcher's DB.EachAdvisory.
	MaterialHotP50, MaterialHotP99, MaterialHotCPUP99 float64
	// Cold, after Prefetch(PrefetchRead).
	ReadMs, ReadAllP99, ReadCPUP99 float64
	// Each key's fastest of the three hot passes: the lookup's own cost,
	// without the interrupts and preemptions of a shared machine that
	// land on one pass or another.
	HotBestP99, HotBestCPUP99 float64
}

// threadCPU returns the calling thread's CPU time.
func threadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// childLookup drops the database file from the page cache, opens it, and
// times lookups: the first pass is cold, the following passes hot.
func childLookup(cacheDir, keysFile string) {
	path := vulndb.DefaultPath(cacheDir)
	var keys [][2]string
	data, err := os.ReadFile(keysFile)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(data, &keys); err != nil {
		log.Fatal(err)
	}
	evict(path)
	ctx := context.Background()
	t0 := time.Now()
	db, err := vulndb.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	var res lookupResult
	runtime.LockOSThread()
	// The clock's own cost, subtracted from each CPU-time sample.
	c0 := threadCPU()
	for range 1000 {
		threadCPU()
	}
	clockCost := float64((threadCPU() - c0).Nanoseconds()) / 1000 / 1e3
	// A lookup is what the matcher does: DB.EachAdvisory, reading every
	// entry's ranges. material switches to DB.Advisories.
	events := 0
	visit := func(a *vulndb.Affected) error {
		for _, r := range a.Ranges {
			for _, e := range r.Events {
				events += len(e.Introduced) + len(e.Fixed) + len(e.LastAffected) + len(e.Limit)
			}
		}
		events += len(a.ID) + len(a.Versions)
		return nil
	}
	lookup := func(k [2]string, material bool) (int, error) {
		if material {
			as, err := db.Advisories(ctx, k[0], k[1])
			return len(as), err
		}
		n := 0
		err := db.EachAdvisory(ctx, k[0], k[1], func(a *vulndb.Affected) error { n++; return visit(a) })
		return n, err
	}
	passOf := func(material bool) (hit, miss, all, cpu []float64) {
		hit = make([]float64, 0, len(keys))
		miss = make([]float64, 0, len(keys))
		all = make([]float64, 0, len(keys))
		cpu = make([]float64, 0, len(keys))
		for _, k := range keys {
			c := threadCPU()
			s := time.Now()
			n, err := lookup(k, material)
			d := float64(time.Since(s).Nanoseconds()) / 1e3
			cpu = append(cpu, max(0, float64((threadCPU()-c).Nanoseconds())/1e3-clockCost))
			if err != nil {
				log.Fatal(err)
			}
			all = append(all, d)
			if n > 0 {
				hit = append(hit, d)
			} else {
				miss = append(miss, d)
			}
		}
		return
	}
	pass := func() (hit, miss, all, cpu []float64) { return passOf(false) }
	ch, cm, ca, cc := pass()
	res.ColdFirstMs = float64(time.Since(t0).Microseconds()) / 1e3
	res.ColdHitP50, res.ColdHitP99, res.ColdMissP99, res.ColdAllP99 = pct(ch, 50), pct(ch, 99), pct(cm, 99), pct(ca, 99)
	res.ColdCPUP50, res.ColdCPUP99 = pct(cc, 50), pct(cc, 99)
	var hh, hm, ha, hc []float64
	for range 3 {
		h, m, a, c := pass()
		hh, hm, ha, hc = append(hh, h...), append(hm, m...), append(ha, a...), append(hc, c...)
	}
	res.HotHitP50, res.HotHitP99, res.HotMissP99, res.HotAllP99 = pct(hh, 50), pct(hh, 99), pct(hm, 99), pct(ha, 99)
	res.HotCPUP50, res.HotCPUP99 = pct(hc, 50), pct(hc, 99)
	res.HotBestP99, res.HotBestCPUP99 = pct(bestOf(ha, len(keys)), 99), pct(bestOf(hc, len(keys)), 99)
	var mh, mc []float64
	for range 3 {
		h, _, _, c := passOf(true)
		mh, mc = append(mh, h...), append(mc, c...)
	}
	res.MaterialHotP50, res.MaterialHotP99, res.MaterialHotCPUP99 = pct(mh, 50), pct(mh, 99), pct(mc, 99)

	// Cold again, but with Prefetch run first: PrefetchRead as a scan
	// does while it reads the image, PrefetchMap as a long-lived process
	// would.
	prefetched := func(mode vulndb.PrefetchMode) (ms, all, cpu float64) {
		db.Close()
		evict(path)
		if db, err = vulndb.Open(path); err != nil {
			log.Fatal(err)
		}
		ps := time.Now()
		if err := db.Prefetch(ctx, mode); err != nil {
			log.Fatal(err)
		}
		ms = float64(time.Since(ps).Microseconds()) / 1e3
		_, _, pa, pc := pass()
		return ms, pct(pa, 99), pct(pc, 99)
	}
	res.ReadMs, res.ReadAllP99, res.ReadCPUP99 = prefetched(vulndb.PrefetchRead)
	res.PrefetchMs, res.PrefetchedAllP99, res.PrefetchedCPUP99 = prefetched(vulndb.PrefetchMap)
	db.Close()
	res.Hits, res.Lookups = len(ch), len(keys)
	_ = events
	json.NewEncoder(os.Stdout).Encode(res)
}

// bestOf returns, for each of the n keys, its smallest sample in xs, which
// holds passes over the keys one after another.
func bestOf(xs []float64, n int) []float64 {
	best := slices.Clone(xs[:n])
	for i := n; i < len(xs); i++ {
		best[i%n] = min(best[i%n], xs[i])
	}
	return best
}

// evict drops the file from the page cache.
func evict(path string) {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		log.Printf("fadvise: %v (cold numbers are page-cache warm)", err)
	}
}

func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// server serves the export directory with overrides for the delta.
type server struct {
	dir  string
	mu   sync.Mutex
	ovr  map[string][]byte
	zips map[string]map[string]*zip.File // folder -> record file name -> zip entry
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b, ok := s.ovr[r.URL.Path]
	s.mu.Unlock()
	if !ok {
		if folder, name, found := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); found && strings.HasSuffix(name, ".json") {
			if zf := s.record(folder, name); zf != nil {
				rc, err := zf.Open()
				if err == nil {
					b, err = io.ReadAll(rc)
					rc.Close()
				}
				ok = err == nil
			}
		}
	}
	if ok {
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
		return
	}
	http.FileServer(http.Dir(s.dir)).ServeHTTP(w, r)
}

// record finds a record in a folder's all.zip, as the export serves each
// record beside the archive.
func (s *server) record(folder, name string) *zip.File {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.zips == nil {
		s.zips = map[string]map[string]*zip.File{}
	}
	m, ok := s.zips[folder]
	if !ok {
		zr, err := zip.OpenReader(filepath.Join(s.dir, folder, "all.zip"))
		if err != nil {
			return nil
		}
		m = map[string]*zip.File{}
		for _, f := range zr.File {
			m[f.Name] = f
		}
		s.zips[folder] = m
	}
	return m[name]
}

type runStats struct {
	Seconds   float64  `json:"seconds"`
	Added     int      `json:"added"`
	Updated   int      `json:"updated"`
	Unchanged int      `json:"unchanged"`
	Malformed int      `json:"malformed"`
	Failed    int      `json:"failed"`
	Failures  []string `json:"failures"`
	Docs      int      `json:"docs"`
	AnonMB    float64  `json:"anonMB"`
	MaxRSSMB  float64  `json:"-"`
	WallSec   float64  `json:"-"`
	CPUSec    float64  `json:"-"`
	// Deltas: how many ran, and the fastest and slowest wall times.
	Runs             int     `json:"-"`
	MinWall, MaxWall float64 `json:"-"`
}

func child(args ...string) ([]byte, *syscall.Rusage, time.Duration) {
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	out, err := cmd.Output()
	wall := time.Since(start)
	if err != nil {
		log.Fatalf("%v: %v", args, err)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return out, ru, wall
}

func runChild(base, cacheDir, profile string) runStats {
	args := []string{"-mode=run", "-base=" + base, "-db=" + cacheDir}
	if profile != "" {
		args = append(args, "-cpuprofile="+profile, "-trace="+strings.TrimSuffix(profile, ".prof")+".trace")
	}
	out, ru, wall := child(args...)
	var st runStats
	if err := json.Unmarshal(out, &st); err != nil {
		log.Fatalf("run output %q: %v", out, err)
	}
	st.MaxRSSMB = float64(ru.Maxrss) / 1024
	st.WallSec = wall.Seconds()
	st.CPUSec = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	return st
}

func drive(records int, cache, out string, changes int, profileDir string, reuse bool, deltas int, skipLookup bool) {
	prof := func(name string) string {
		if profileDir == "" {
			return ""
		}
		return filepath.Join(profileDir, name+".prof")
	}
	if cache == "" {
		uc, err := os.UserCacheDir()
		if err != nil {
			log.Fatal(err)
		}
		cache = filepath.Join(uc, "vigil-bench", "vulndb")
	}
	exportDir := filepath.Join(cache, fmt.Sprintf("export-%d", records))
	var man synth.Manifest
	if data, err := os.ReadFile(filepath.Join(exportDir, "manifest.json")); err == nil && json.Unmarshal(data, &man) == nil && man.Records == records {
		log.Printf("reusing export in %s", exportDir)
	} else {
		log.Printf("generating %d records in %s", records, exportDir)
		os.RemoveAll(exportDir)
		t := time.Now()
		m, err := synth.Generate(exportDir, synth.Options{Records: records, Seed: 1, Words: vocabulary()})
		if err != nil {
			log.Fatal(err)
		}
		man = *m
		log.Printf("generated in %s", time.Since(t).Round(time.Second))
	}
	srv := &server{dir: exportDir, ovr: map[string][]byte{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, srv)
	base := "http://" + ln.Addr().String()

	dbDir := filepath.Join(cache, fmt.Sprintf("db-%d", records))
	var full runStats
	if !reuse {
		os.RemoveAll(dbDir)
		log.Printf("full build...")
		full = runChild(base, dbDir, prof("full"))
		log.Printf("full: %+v", full)
	}
	fi, err := os.Stat(vulndb.DefaultPath(dbDir))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("database file: %.1f MB", float64(fi.Size())/(1<<20))

	// Several deltas in a row, each changing other records; the median by
	// wall time is reported (the machine is shared: one run is noise).
	var ds []runStats
	for i := range deltas {
		log.Printf("delta %d of %d changed records...", i+1, changes)
		prepareDelta(srv, exportDir, man, changes, reuse || i > 0)
		d := runChild(base, dbDir, prof(fmt.Sprintf("delta%d", i+1)))
		log.Printf("delta: %+v", d)
		ds = append(ds, d)
	}
	slices.SortFunc(ds, func(a, b runStats) int { return cmp.Compare(a.WallSec, b.WallSec) })
	delta := ds[len(ds)/2]
	delta.Runs = len(ds)
	delta.MinWall, delta.MaxWall = ds[0].WallSec, ds[len(ds)-1].WallSec
	fi2, _ := os.Stat(vulndb.DefaultPath(dbDir))
	if skipLookup {
		return
	}

	keys := lookupKeys(man)
	kf := filepath.Join(cache, "keys.json")
	kd, _ := json.Marshal(keys)
	os.WriteFile(kf, kd, 0o644)
	lo, _, _ := child("-mode=lookup", "-db="+dbDir, "-keys="+kf)
	var lr lookupResult
	if err := json.Unmarshal(lo, &lr); err != nil {
		log.Fatalf("lookup output %q: %v", lo, err)
	}
	log.Printf("lookup: %+v", lr)

	report := results(records, man, full, delta, lr, fi.Size(), fi2.Size(), changes)
	fmt.Print(report)
	if out != "" {
		if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// vocabulary returns the words of the real fixture records' texts, in
// order, for the generator's bigram model. Without the fixtures it falls back
// to the generator's built-in list.
func vocabulary() []string {
	dir := os.Getenv("VIGIL_FIXTURES")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "fixtures")
	}
	var words []string
	re := regexp.MustCompile(`[^\s]+`)
	for _, sub := range []string{"vulndata", "derived-debian"} {
		filepath.Walk(filepath.Join(dir, sub), func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() || !strings.HasSuffix(p, ".json") || fi.Size() > 1<<20 {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			var rec struct{ Summary, Details string }
			if json.Unmarshal(data, &rec) != nil {
				return nil
			}
			words = append(words, re.FindAllString(rec.Summary+" "+rec.Details, -1)...)
			return nil
		})
	}
	if len(words) < 1000 {
		log.Printf("few fixture words found under %s; using the built-in vocabulary", dir)
		return nil
	}
	return words
}

// prepareDelta changes `changes` random records: new modified times newer
// than anything in the export, served as <ID>.json, and modified_id.csv
// files listing them first.
func prepareDelta(srv *server, exportDir string, man synth.Manifest, changes int, again bool) {
	rng := rand.New(rand.NewPCG(7, 7))
	when := man.Newest.Add(time.Hour)
	if again {
		// A database that already took this delta: change other records,
		// later.
		rng = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
		when = time.Now().UTC()
	}
	perEco := map[string]int{}
	for i := 0; i < changes; i++ {
		perEco[synth.Mix[pickWeighted(rng)].Folder]++
	}
	n := 0
	for eco, k := range perEco {
		zr, err := zip.OpenReader(filepath.Join(exportDir, eco, "all.zip"))
		if err != nil {
			log.Fatal(err)
		}
		picked := map[int]bool{}
		var lines []string
		for len(picked) < k && len(picked) < len(zr.File) {
			i := rng.IntN(len(zr.File))
			if picked[i] {
				continue
			}
			picked[i] = true
			rc, err := zr.File[i].Open()
			if err != nil {
				log.Fatal(err)
			}
			data, _ := io.ReadAll(rc)
			rc.Close()
			var rec map[string]any
			if err := json.Unmarshal(data, &rec); err != nil {
				log.Fatal(err)
			}
			n++
			t := when.Add(time.Duration(n) * time.Millisecond)
			ch := synth.Change(rec, t, n)
			b, _ := json.MarshalIndent(ch, "", "  ")
			id := rec["id"].(string)
			srv.ovr["/"+eco+"/"+id+".json"] = b
			lines = append(lines, t.Format(time.RFC3339Nano)+","+id)
		}
		zr.Close()
		slices.Reverse(lines)
		old, err := os.ReadFile(filepath.Join(exportDir, eco, "modified_id.csv"))
		if err != nil {
			log.Fatal(err)
		}
		srv.ovr["/"+eco+"/modified_id.csv"] = []byte(strings.Join(lines, "\n") + "\n" + string(old))
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func pickWeighted(rng *rand.Rand) int {
	x := rng.Float64()
	for i, m := range synth.Mix {
		if x < m.Weight {
			return i
		}
		x -= m.Weight
	}
	return len(synth.Mix) - 1
}

// lookupKeys mixes packages that have advisories with ones that do not
// (most packages in an image have none).
func lookupKeys(man synth.Manifest) [][2]string {
	rng := rand.New(rand.NewPCG(3, 3))
	var keys [][2]string
	for i := 0; i < 20000 && len(man.Keys) > 0; i++ {
		keys = append(keys, man.Keys[rng.IntN(len(man.Keys))])
	}
	for i := 0; i < 10000; i++ {
		k := man.Keys[rng.IntN(len(man.Keys))]
		keys = append(keys, [2]string{k[0], k[1] + "-notthere"})
	}
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	return keys
}

func results(records int, man synth.Manifest, full, delta runStats, lr lookupResult, size, size2 int64, changes int) string {
	var b strings.Builder
	mb := func(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
	ok := func(good bool) string {
		if good {
			return "met"
		}
		return "**NOT met**"
	}
	rate := float64(records) / full.WallSec
	cpuRate := float64(records) / full.CPUSec
	fmt.Fprintf(&b, "# vulndb benchmark results\n\n")
	fmt.Fprintf(&b, "Produced by `go run ./bench/vulndb -records %d -out bench/vulndb-RESULTS.md` on %s (%s/%s, %d CPUs, %s; load average when done: %s).\n\n",
		records, time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), loadavg())
	fmt.Fprintf(&b, "Synthetic OSV export (`bench/vulndb/synth`): %d records in %d ecosystems, %s of record JSON, %s of all.zip files; served over loopback HTTP in the upstream layout. Each build ran `update.Run` in its own process (the numbers include downloading the zips).\n\n",
		man.Records, len(man.PerEco), mb(man.JSONBytes), mb(man.ZipBytes))
	fmt.Fprintf(&b, "| target | measured | result |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| full build >= 25,000 records/s | %.0f records/s wall (%.1f s for %d records; %d stored); %.0f records per CPU-second (%.1f s user+sys) | %s |\n", rate, full.WallSec, records, full.Docs, cpuRate, full.CPUSec, ok(rate >= 25000))
	fmt.Fprintf(&b, "| full build peak memory < 300 MB | %.0f MB peak anonymous memory (heap, stacks); %.0f MB max RSS including the mmap'd database pages | %s |\n", full.AnonMB, full.MaxRSSMB, ok(full.AnonMB < 300))
	fmt.Fprintf(&b, "| delta of %d changed records < 2 s | median of %d deltas in a row: %.2f s wall (%.2f-%.2f s), %.2f s CPU (%d updated, %.0f MB peak anonymous memory) | wall %s, CPU %s |\n", changes, delta.Runs, delta.WallSec, delta.MinWall, delta.MaxWall, delta.CPUSec, delta.Updated, delta.AnonMB, ok(delta.WallSec < 2), ok(delta.CPUSec < 2))
	fmt.Fprintf(&b, "| lookup p99 < 20 µs, cold | wall %.1f µs (hits p50 %.1f, hits p99 %.1f, misses p99 %.1f); thread CPU p50 %.1f, p99 %.1f µs | wall %s, CPU %s |\n", lr.ColdAllP99, lr.ColdHitP50, lr.ColdHitP99, lr.ColdMissP99, lr.ColdCPUP50, lr.ColdCPUP99, ok(lr.ColdAllP99 < 20), ok(lr.ColdCPUP99 < 20))
	fmt.Fprintf(&b, "| lookup p99 < 20 µs, hot | wall %.1f µs (hits p50 %.1f, hits p99 %.1f, misses p99 %.1f); thread CPU p50 %.1f, p99 %.1f µs | wall %s, CPU %s |\n", lr.HotAllP99, lr.HotHitP50, lr.HotHitP99, lr.HotMissP99, lr.HotCPUP50, lr.HotCPUP99, ok(lr.HotAllP99 < 20), ok(lr.HotCPUP99 < 20))
	fmt.Fprintf(&b, "| lookup p99 < 20 µs, hot, each package's best of the three passes | wall %.1f µs; thread CPU %.1f µs | wall %s, CPU %s |\n", lr.HotBestP99, lr.HotBestCPUP99, ok(lr.HotBestP99 < 20), ok(lr.HotBestCPUP99 < 20))
	fmt.Fprintf(&b, "| lookup p99, cold after `DB.Prefetch(PrefetchRead)` (%.0f ms), as `vigil image` does | wall %.1f µs; thread CPU %.1f µs | wall %s, CPU %s |\n", lr.ReadMs, lr.ReadAllP99, lr.ReadCPUP99, ok(lr.ReadAllP99 < 20), ok(lr.ReadCPUP99 < 20))
	fmt.Fprintf(&b, "| lookup p99, cold after `DB.Prefetch(PrefetchMap)` (%.0f ms) | wall %.1f µs; thread CPU %.1f µs | wall %s, CPU %s |\n", lr.PrefetchMs, lr.PrefetchedAllP99, lr.PrefetchedCPUP99, ok(lr.PrefetchedAllP99 < 20), ok(lr.PrefetchedCPUP99 < 20))
	fmt.Fprintf(&b, "| (for comparison) hot, through `DB.Advisories`, which returns a new `[]Affected` | hits p50 %.1f µs, hits p99 %.1f µs; thread CPU p99 %.1f µs | |\n", lr.MaterialHotP50, lr.MaterialHotP99, lr.MaterialHotCPUP99)
	fmt.Fprintf(&b, "| file <= 1/4 of the JSON | %s = 1/%.1f of %s (after the delta: %s) | %s |\n", mb(size), float64(man.JSONBytes)/float64(size), mb(man.JSONBytes), mb(size2), ok(size*4 <= man.JSONBytes))
	fmt.Fprintf(&b, "\nFile size next to what the peers publish for their own databases (different inputs: theirs hold the real feeds, this one the synthetic export above): Trivy's trivy.db about 474 MB unpacked, Grype's v6 database about 900 MB; vigil's %s for %d records (%s after one delta).\n",
		mb(size), records, mb(size2))
	fmt.Fprintf(&b, "\nLookups: %d keys (two thirds packages with advisories, one third absent names), in random order. Cold: the file was evicted from the page cache (posix_fadvise DONTNEED) and opened in a fresh process; the first pass over the keys is timed (whole pass %.0f ms). Hot: three more passes. A lookup is `DB.EachAdvisory` reading every entry's ranges, as the matcher does.\n",
		lr.Lookups, lr.ColdFirstMs)
	fmt.Fprintf(&b, "\nFull build: %d added, %d malformed, %d failed. Delta: %d updated, %d unchanged, %d failed.\n", full.Added, full.Malformed, full.Failed, delta.Updated, delta.Unchanged, delta.Failed)
	return b.String()
}
