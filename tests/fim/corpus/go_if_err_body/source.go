package files

import (
	"io"
	"os"
)

func ReadAll(path string) ([]byte, error) {
	f, err := os.Open(path)
	█
}
