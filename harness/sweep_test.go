package harness

import (
	"reflect"
	"testing"

	"github.com/relix-lab/relix/harness/zone"
)

func TestGridPercent(t *testing.T) {
	for f, want := range map[float64]string{0.07: "7%", 0.01: "1%", 0.15: "15%", 0.005: "0.5%", 0.125: "12.5%"} {
		if got := gridPercent(f); got != want {
			t.Errorf("gridPercent(%g) = %q; want %q", f, got, want)
		}
	}
}

// TestSweepRowsCopyEveryColumn fills every field of a zone.Point with its
// own value and checks that the row carries each under the same name: a
// column added to one side and not the other fails here.
func TestSweepRowsCopyEveryColumn(t *testing.T) {
	var p zone.Point
	pv := reflect.ValueOf(&p).Elem()
	seed := uint64(7)
	for i := range pv.NumField() {
		f := pv.Field(i)
		switch f.Kind() {
		case reflect.Float64:
			f.SetFloat(float64(i) + 0.5)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(i))
		case reflect.String:
			f.SetString(pv.Type().Field(i).Name)
		case reflect.Pointer:
			f.Set(reflect.ValueOf(&seed))
		default:
			t.Fatalf("field %s of kind %s", pv.Type().Field(i).Name, f.Kind())
		}
	}
	rows := sweepRows(&zone.Result{Points: []zone.Point{p}})
	rv := reflect.ValueOf(rows[0])
	if rv.NumField() != pv.NumField() {
		t.Fatalf("results.SweepPoint has %d fields, zone.Point %d", rv.NumField(), pv.NumField())
	}
	for i := range pv.NumField() {
		name := pv.Type().Field(i).Name
		got := rv.FieldByName(name)
		if !got.IsValid() {
			t.Errorf("results.SweepPoint has no field %s", name)
			continue
		}
		want := pv.Field(i)
		switch want.Kind() {
		case reflect.Float64:
			if got.Float() != want.Float() {
				t.Errorf("%s = %v; want %v", name, got.Float(), want.Float())
			}
		case reflect.Int, reflect.Int64:
			if got.Int() != want.Int() {
				t.Errorf("%s = %v; want %v", name, got.Int(), want.Int())
			}
		case reflect.String:
			if got.String() != want.String() {
				t.Errorf("%s = %q; want %q", name, got.String(), want.String())
			}
		case reflect.Pointer:
			if got.Interface().(*uint64) != &seed {
				t.Errorf("%s not copied", name)
			}
		}
	}
}
