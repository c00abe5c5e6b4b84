package fleet

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipvs-tools/ipvs/internal/etcdtest"
)

// TestPutTooLarge: a document over etcd's request limit is refused with
// the limit named, whether etcd's gRPC layer or its server refuses it.
func TestPutTooLarge(t *testing.T) {
	srv := etcdtest.Start(t)
	c, err := Connect(ClientOptions{Endpoints: []string{srv.Endpoint()}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, size := range []int{1600 << 10, 3 << 20} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := Put(ctx, c, layout.Document(Target{}), []byte(strings.Repeat("#\n", size/2)), 0, false)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "refused the request as too large: a value may not exceed its --max-request-bytes") {
			t.Errorf("%d bytes: %v", size, err)
		}
	}
}
