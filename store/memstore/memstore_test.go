package memstore

import (
	"testing"

	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.LogStore { return New() })
}
