// Command many scans one image N times in one process, as the server will,
// without the layer cache, and prints resident memory and open files after
// each scan: both must stay flat.
//
//	go run ./bench/many -ref oci-dir:bench/out/reference-oci#ref -n 50
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/vigilsec/vigil/ecosystem/builtin"
	"github.com/vigilsec/vigil/image/resolve"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/scan"
)

func rssKB() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(sc.Text(), "VmRSS:"))
		}
	}
	return "?"
}

func fds() int {
	e, _ := os.ReadDir("/proc/self/fd")
	return len(e)
}

func main() {
	ref := flag.String("ref", "oci-dir:bench/out/reference-oci#ref", "image to scan")
	n := flag.Int("n", 50, "scans")
	flag.Parse()
	tmp, err := os.MkdirTemp("", "vigil-many-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	svc := &scan.Service{Open: resolve.Open, ImageExtractors: builtin.ImageRegistry(), TempDir: tmp, Tool: report.Tool{Name: "vigil"}}
	fmt.Println("scan\tseconds\tpackages\tVmRSS\topen files")
	for i := 1; i <= *n; i++ {
		start := time.Now()
		r, err := svc.Inventory(context.Background(), *ref, scan.Options{NoCache: true})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d\t%.2f\t%d\t%s\t%d\n", i, time.Since(start).Seconds(), len(r.Inventory.Packages), rssKB(), fds())
	}
}
