# -*- encoding: utf-8 -*-
# stub: stub-only 1.2.0 ruby lib

Gem::Specification.new do |s|
  s.name = "stub-only".freeze
  s.version = StubOnly::VERSION
end
