# A developer's gemspec (not what RubyGems writes for an installed gem):
# the version is computed, so no version can be read without running Ruby.
require_relative "lib/computed/version"

Gem::Specification.new do |spec|
  spec.name = "computed"
  spec.version = Computed::VERSION
  spec.licenses = ["MIT"]
end
