# -*- encoding: utf-8 -*-
# stub: activesupport 7.0.4 ruby lib

Gem::Specification.new do |spec|
  spec.name = 'activesupport'.freeze
  spec.version = Gem::Version.new("7.0.4")
  spec.license = "MIT".freeze
  spec.summary = "A toolkit of support libraries and Ruby core extensions extracted from the Rails framework.".freeze
  spec.require_paths = ["lib".freeze]
  spec.required_ruby_version = Gem::Requirement.new(">= 2.7.0".freeze)
end
