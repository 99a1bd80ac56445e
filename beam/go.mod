module github.com/copycat-dev/copycat/beam

go 1.26.0

require github.com/copycat-dev/copycat v0.0.0

require github.com/apache/beam/sdks/v2 v2.78.0 // indirect

replace github.com/copycat-dev/copycat => ../
